// Lets the site search run when the pages are opened from disk (file://), with no network.
//
// The theme's search runs in a Web Worker, and browsers refuse `new Worker(...)` for a file://
// script. Opened from disk, this file replaces `Worker` with a stand-in that runs the worker's
// script in a hidden frame of the same page: messages go in as "message" events on the frame's
// window, and the script's own `postMessage` calls come back as "message" events on the
// stand-in. The theme's offline plugin (mkdocs.yml) loads the search index as a script, so the
// worker never has to fetch a file. Served over http(s), this file does nothing.
//
// Written for this project (see docs/site_hooks.py for the rest of the offline set-up); it
// supports what the theme's search worker uses: postMessage, message events, terminate.
(function () {
  "use strict";
  if (location.protocol !== "file:") {
    return;
  }

  class FrameWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this.pending = [];
      this.frame = document.createElement("iframe");
      this.frame.hidden = true;
      this.frame.setAttribute("aria-hidden", "true");
      document.body.appendChild(this.frame);
      const scope = this.frame.contentWindow;
      // Inside the frame, the worker's `postMessage(data)` answers the page.
      scope.postMessage = (data) => this.deliver(data);
      const script = scope.document.createElement("script");
      script.src = new URL(url, document.baseURI).href;
      script.onload = () => {
        const waiting = this.pending;
        this.pending = null;
        waiting.forEach((data) => this.postMessage(data));
      };
      script.onerror = () => this.fail(`cannot load the search worker ${script.src}`);
      scope.document.head.appendChild(script);
    }

    postMessage(data) {
      if (this.pending !== null) {
        this.pending.push(data);
        return;
      }
      const scope = this.frame.contentWindow;
      // Asynchronous, as a real worker's messages are.
      setTimeout(() => scope.dispatchEvent(new scope.MessageEvent("message", { data })), 0);
    }

    deliver(data) {
      setTimeout(() => {
        const event = new MessageEvent("message", { data });
        if (typeof this.onmessage === "function") {
          this.onmessage(event);
        }
        this.dispatchEvent(event);
      }, 0);
    }

    fail(message) {
      const event = new ErrorEvent("error", { message });
      if (typeof this.onerror === "function") {
        this.onerror(event);
      }
      this.dispatchEvent(event);
    }

    terminate() {
      this.frame.remove();
    }
  }

  window.Worker = FrameWorker;
})();

// Tiny DOM helpers: build elements declaratively, clear containers.

/**
 * Create an element. `attrs` keys: "class", "text", "data" (object of data-* values),
 * "on" (object of event handlers), anything else is set as an attribute (false/null skip it).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "data") {
      for (const [k, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) el.dataset[k] = String(v);
      }
    } else if (key === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === "value") el.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Format milliseconds as m:ss (or h:mm:ss), with tenths under ten seconds. */
export function formatClock(ms) {
  const clamped = Math.max(0, ms);
  if (clamped < 10000) return (clamped / 1000).toFixed(1);
  const total = Math.ceil(clamped / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/**
 * Keeps keyboard focus inside `root` (give it tabindex="-1") across re-renders that
 * replace its children, so a keyboard player can move again without reaching for the
 * mouse. After render(fn) the element with the same data-key gets the focus back; when
 * that one is disabled now, the first enabled keyed element does, or else `root` itself
 * until a later render has one to give it to. Focus from a mouse click is not kept, so no
 * focus ring lingers, and clicking elsewhere on the page lets go.
 */
export class FocusKeeper {
  constructor(root) {
    this.root = root;
    this.key = null; // data-key of the element holding keyboard focus, null when none
    this.rendering = false;
    root.addEventListener("focusin", (event) => {
      if (this.rendering) return;
      const keyed = event.target.closest("[data-key]");
      if (keyed) this.key = keyed.matches(":focus-visible") ? keyed.dataset.key : null;
    });
    root.addEventListener("focusout", () => {
      if (this.rendering) return;
      // Where focus went is only known once the event is over.
      setTimeout(() => {
        if (!root.contains(document.activeElement)) this.key = null;
      }, 0);
    });
  }

  /** Run `fn` (which rebuilds the children of the root), then put keyboard focus back. */
  render(fn) {
    const held = this.key !== null && this.root.contains(document.activeElement);
    this.rendering = true;
    try {
      fn();
      if (held) this._restore();
    } finally {
      this.rendering = false;
    }
  }

  _restore() {
    const same = this.root.querySelector(`[data-key="${CSS.escape(this.key)}"]`);
    const target = same && !same.disabled ? same : [...this.root.querySelectorAll("[data-key]")].find((el) => !el.disabled);
    if (target) {
      this.key = target.dataset.key;
      target.focus({ preventScroll: true });
    } else {
      this.root.focus({ preventScroll: true });
    }
  }
}

/** `text` as a sentence: first letter capitalised (server messages start lowercase). */
export function sentence(text) {
  const value = String(text || "").trim();
  return value ? value[0].toUpperCase() + value.slice(1) : value;
}

/**
 * A page that only says why there is nothing to show, and where to go instead. `code`
 * (the server's error code, if any) goes into data-code for tests and scripts.
 */
export function messagePage({ id, title, text, code = null, back }) {
  return h(
    "section",
    { id, class: "card message-page", role: "alert", data: { code } },
    h("h1", {}, title),
    h("p", {}, text),
    h("p", {}, h("a", { class: "button primary", href: back.href }, back.label)),
  );
}

/**
 * A tiny element builder for the page: attributes and text are set as properties and text nodes,
 * never parsed as HTML, so whatever a kernel or another client wrote cannot become markup.
 */

/** Attributes (set with setAttribute), `className`, and event listeners (`onclick`...). */
export type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** Children: elements, or strings that become text nodes. */
export type Child = Node | string | null | undefined | false;

/**
 * Makes an element: `h("button", { className: "run", onclick: run }, "Run")`. Boolean attributes
 * are added when true; `undefined` and `false` values are left out.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") element.addEventListener(name.replace(/^on/, ""), value);
    else if (name === "className") element.className = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

/** Appends children (strings as text nodes). */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

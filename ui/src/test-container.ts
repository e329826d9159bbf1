// Test support of the component tests: the element a describe block renders into.

import { render } from "preact";
import { afterEach, vi } from "vitest";

/** A container attached to the document; after each test of the calling describe block
 * whatever was rendered into it is unmounted and the globals the test stubbed are restored. */
export function testContainer(): HTMLDivElement {
  const container = document.createElement("div");
  document.body.appendChild(container);
  afterEach(() => {
    render(null, container);
    vi.unstubAllGlobals();
  });
  return container;
}

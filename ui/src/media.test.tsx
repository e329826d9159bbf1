import { render } from "preact";
import { describe, expect, it } from "vitest";
import { MediaList } from "./components/Json";
import { collectMedia, parseRefs } from "./media";
import { testContainer } from "./test-container";

const png = "@@@langfuseMedia:type=image/png|id=abc_123|source=base64_data_uri@@@";
const svg = "@@@langfuseMedia:type=image/svg+xml|id=svg1|source=bytes@@@";

describe("media references", () => {
  it("parses references and rejects unsafe ids", () => {
    expect(parseRefs(`see ${png} and ${svg}`)).toEqual([
      { id: "abc_123", type: "image/png", source: "base64_data_uri" },
      { id: "svg1", type: "image/svg+xml", source: "bytes" },
    ]);
    expect(parseRefs("@@@langfuseMedia:type=image/png|id=../../x|source=bytes@@@")).toEqual([]);
  });

  it("finds references anywhere in a value, once each", () => {
    const value = { messages: [{ content: [{ image: png }, { again: png }] }], other: svg };
    expect(collectMedia(value).map((ref) => ref.id).sort()).toEqual(["abc_123", "svg1"]);
  });
});

describe("media list", () => {
  const container = testContainer();

  it("shows raster images inline and everything else as a download link", () => {
    render(<MediaList projectId="p1" value={{ a: png, b: svg }} />, container);
    const images = [...container.querySelectorAll("img")];
    expect(images).toHaveLength(1);
    expect(images[0].getAttribute("src")).toBe("/api/ui/projects/p1/media/abc_123");
    const links = [...container.querySelectorAll("a.tag")];
    expect(links.map((link) => link.getAttribute("href"))).toEqual(["/api/ui/projects/p1/media/svg1"]);
  });
});

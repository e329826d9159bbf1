// A small Markdown renderer that builds elements, never HTML strings: headings, paragraphs,
// fenced code, lists, quotes, **bold**, *italic*, `code` and links (http, https and mailto
// only). Anything else stays text, so untrusted text can never become markup or script.

import type { ComponentChildren, JSX } from "preact";

const SAFE_LINK = /^(https?:|mailto:)/i;

/** Inline spans: code, bold, italic and links. */
export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const pattern = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*)|(\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  let match: RegExpExecArray | null;
  let key = 0;
  while ((match = pattern.exec(text)) !== null) {
    if (match.index > last) out.push(text.slice(last, match.index));
    const token = match[0];
    if (match[1]) out.push(<code key={key++}>{token.slice(1, -1)}</code>);
    else if (match[2]) out.push(<strong key={key++}>{inline(token.slice(2, -2))}</strong>);
    else if (match[3]) out.push(<em key={key++}>{inline(token.slice(1, -1))}</em>);
    else {
      const close = token.indexOf("](");
      const label = token.slice(1, close);
      const href = token.slice(close + 2, -1);
      out.push(
        SAFE_LINK.test(href) ? (
          <a key={key++} href={href} target="_blank" rel="noopener noreferrer nofollow">
            {label}
          </a>
        ) : (
          token
        ),
      );
    }
    last = match.index + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Block structure of a Markdown text. */
export function Markdown(props: { text: string }) {
  const lines = props.text.replace(/\r\n?/g, "\n").split("\n");
  const blocks: JSX.Element[] = [];
  let index = 0;
  let key = 0;
  while (index < lines.length) {
    const line = lines[index];
    if (line.trim() === "") {
      index++;
      continue;
    }
    if (line.startsWith("```")) {
      const body: string[] = [];
      index++;
      while (index < lines.length && !lines[index].startsWith("```")) body.push(lines[index++]);
      index++;
      blocks.push(
        <pre key={key++} class="json">
          {body.join("\n")}
        </pre>,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(heading[1].length + 2, 6);
      const Tag = `h${level}` as "h3";
      blocks.push(<Tag key={key++} class="md-heading">{inline(heading[2])}</Tag>);
      index++;
      continue;
    }
    if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      while (index < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[index])) {
        items.push(lines[index].replace(/^\s*([-*+]|\d+[.)])\s+/, ""));
        index++;
      }
      const children = items.map((item, itemIndex) => <li key={itemIndex}>{inline(item)}</li>);
      blocks.push(ordered ? <ol key={key++}>{children}</ol> : <ul key={key++}>{children}</ul>);
      continue;
    }
    if (line.startsWith(">")) {
      const quoted: string[] = [];
      while (index < lines.length && lines[index].startsWith(">")) quoted.push(lines[index++].replace(/^>\s?/, ""));
      blocks.push(<blockquote key={key++}>{inline(quoted.join(" "))}</blockquote>);
      continue;
    }
    const paragraph: string[] = [];
    while (
      index < lines.length &&
      lines[index].trim() !== "" &&
      !lines[index].startsWith("```") &&
      !/^(#{1,6})\s/.test(lines[index]) &&
      !/^\s*([-*+]|\d+[.)])\s+/.test(lines[index])
    ) {
      paragraph.push(lines[index++]);
    }
    blocks.push(<p key={key++}>{inline(paragraph.join("\n"))}</p>);
  }
  return <div class="markdown">{blocks}</div>;
}

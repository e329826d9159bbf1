// A chat transcript, turn by turn. Message text is rendered as text (pre-wrapped); images are
// shown only from inline data URLs.

import { useState } from "preact/hooks";
import { Markdown } from "../markdown";
import type { Message } from "../messages";

export function Conversation(props: { messages: Message[] }) {
  const [markdown, setMarkdown] = useState(true);
  return (
    <div class="conversation">
      <label class="check small muted md-toggle">
        <input type="checkbox" checked={markdown} onChange={(event) => setMarkdown(event.currentTarget.checked)} /> Markdown
      </label>
      {props.messages.map((message, index) => (
        <div key={index} class={`message role-${message.role.replace(/[^a-z]/gi, "")}`} data-role={message.role}>
          <div class="message-role">
            {message.role}
            {message.name ? ` · ${message.name}` : ""}
          </div>
          {message.parts.map((part, partIndex) =>
            part.kind === "image" && part.text.startsWith("data:image/") ? (
              <img key={partIndex} class="message-image" src={part.text} alt="image in message" />
            ) : part.kind === "text" ? (
              markdown ? (
                <div key={partIndex} class="message-text md">
                  <Markdown text={part.text} />
                </div>
              ) : (
                <div key={partIndex} class="message-text">
                  {part.text}
                </div>
              )
            ) : (
              <pre key={partIndex} class="json">
                {part.text}
              </pre>
            ),
          )}
        </div>
      ))}
    </div>
  );
}

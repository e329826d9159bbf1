// A chat transcript, turn by turn. Message text is rendered as text (pre-wrapped); images are
// shown only from inline data URLs.

import type { Message } from "../messages";

export function Conversation(props: { messages: Message[] }) {
  return (
    <div class="conversation">
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
              <div key={partIndex} class="message-text">
                {part.text}
              </div>
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

// The comment thread of a trace, observation, session or prompt version: the comments oldest
// first (content rendered as Markdown elements, never HTML), and a form that adds one as the
// signed-in member.

import { useState } from "preact/hooks";
import { api, projectPath } from "../api";
import { time } from "../format";
import { useLoad } from "../hooks";
import { Markdown } from "../markdown";

export type CommentObjectType = "TRACE" | "OBSERVATION" | "SESSION" | "PROMPT";

export interface CommentRow {
  id: string;
  objectType: CommentObjectType;
  objectId: string;
  content: string;
  authorUserId: string | null;
  author: string | null;
  createdAt: string;
}

/** The longest comment the server takes, as Langfuse does. */
export const MAX_COMMENT_LENGTH = 5000;

export function Comments(props: { projectId: string; objectType: CommentObjectType; objectId: string; label: string }) {
  const query = new URLSearchParams({ objectType: props.objectType, objectId: props.objectId });
  const thread = useLoad(
    () => api.get<{ data: CommentRow[] }>(projectPath(props.projectId, `/comments?${query}`)),
    [props.projectId, props.objectType, props.objectId],
  );
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  const [sending, setSending] = useState(false);
  const comments = thread.data?.data ?? [];
  return (
    <section class="comments" aria-label={`Comments on the ${props.label}`}>
      <h3>
        Comments <span class="muted small">{comments.length}</span>
      </h3>
      {thread.error ? <p class="error-box">{thread.error}</p> : null}
      {thread.data && comments.length === 0 ? <p class="muted">No comments yet.</p> : null}
      <ol class="comment-thread">
        {comments.map((comment) => (
          <li key={comment.id} class="comment">
            <div class="comment-head small">
              <strong>{comment.author ?? comment.authorUserId ?? "API"}</strong> <span class="muted">{time(comment.createdAt)}</span>
            </div>
            <div class="comment-body">
              <Markdown text={comment.content} />
            </div>
          </li>
        ))}
      </ol>
      <form
        class="comment-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (!draft.trim() || sending) return;
          setSending(true);
          api
            .post<CommentRow>(projectPath(props.projectId, "/comments"), {
              objectType: props.objectType,
              objectId: props.objectId,
              content: draft,
            })
            .then(
              () => {
                setDraft("");
                setError("");
                thread.reload(true);
              },
              (reason: Error) => setError(reason.message),
            )
            .finally(() => setSending(false));
        }}
      >
        <textarea
          name="comment"
          aria-label={`Comment on the ${props.label}`}
          placeholder="Add a comment (Markdown)"
          maxLength={MAX_COMMENT_LENGTH}
          rows={3}
          value={draft}
          onInput={(event) => setDraft(event.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={sending || !draft.trim()}>
          Comment
        </button>
        {error ? <p class="error-box">{error}</p> : null}
      </form>
    </section>
  );
}

// Annotation queues and comments with the official JS SDK's API client (@langfuse/client 5.x):
// a trace with a span in a session is exported and flushed, and a score config created; then api.annotationQueues creates
// and reads a queue, adds a trace and a completed session item, lists them (one per page and by
// status), reads, completes and removes items, and unassigns a user; api.comments comments on
// the trace, the observation and the session, lists them by object and reads one. The error
// cases: an unknown queue, a prompt as a queue item, an unknown user, a comment on an object
// that does not exist, an id filter without a type. Prints one line `COMPAT_SUMMARY {json}`.
import { getActiveSpanId, getActiveTraceId, propagateAttributes, startActiveObservation } from "@langfuse/tracing";
import { LangfuseClient } from "@langfuse/client";
import { bounded, errorOf, need, projectKeys, report } from "./harness.mjs";
import { registerTracing } from "./tracing.mjs";

const run = need("COMPAT_RUN_ID");
const keys = projectKeys();
const { processor, provider } = registerTracing(keys);
const langfuse = new LangfuseClient(keys);
const summary = { sdk: "javascript", major: "v5", run };

const sessionId = `review-session-${run}-js`;
await propagateAttributes({ sessionId }, () =>
  startActiveObservation("answer", async (span) => {
    span.update({ output: "42" });
    summary.trace_id = getActiveTraceId();
    summary.observation_id = getActiveSpanId();
  }),
);
summary.session_id = sessionId;
await bounded(summary, "span_flush", () => processor.forceFlush());

const config = await langfuse.api.scoreConfigs.create({ name: `review ${run}-js`.slice(-20), dataType: "NUMERIC", minValue: 0, maxValue: 1 });
summary.config_id = config.id;
const queues = langfuse.api.annotationQueues;
const itemSummary = (item) => ({
  id: item.id,
  queue_id: item.queueId,
  object_id: item.objectId,
  object_type: item.objectType,
  status: item.status,
  completed: item.completedAt != null,
});
const name = `compat-${run}-js-triage`;
const queue = await queues.createQueue({ name, description: "answers to check", scoreConfigIds: [config.id] });
summary.queue = { id: queue.id, name: queue.name, description: queue.description, score_config_ids: queue.scoreConfigIds };
summary.queue_read = (await queues.getQueue(queue.id)).name;
summary.queue_listed = (await queues.listQueues({ limit: 100 })).data.some((q) => q.id === queue.id);

const traceItem = await queues.createQueueItem(queue.id, { objectId: summary.trace_id, objectType: "TRACE" });
const sessionItem = await queues.createQueueItem(queue.id, { objectId: sessionId, objectType: "SESSION", status: "COMPLETED" });
summary.items = [itemSummary(traceItem), itemSummary(sessionItem)];
const page = await queues.listQueueItems(queue.id, { limit: 1, page: 2 });
summary.items_page = { total: page.meta.totalItems, pages: page.meta.totalPages, count: page.data.length };
summary.completed_ids = (await queues.listQueueItems(queue.id, { status: "COMPLETED" })).data.map((i) => i.id);
summary.got_item = itemSummary(await queues.getQueueItem(queue.id, traceItem.id));
summary.completed_item = itemSummary(await queues.updateQueueItem(queue.id, traceItem.id, { status: "COMPLETED" }));
summary.deleted_item = await queues.deleteQueueItem(queue.id, sessionItem.id);
summary.unassigned = (await queues.deleteQueueAssignment(queue.id, { userId: "nobody-assigned" })).success;

const comments = langfuse.api.comments;
summary.comment_ids = {};
for (const [objectType, objectId] of [
  ["TRACE", summary.trace_id],
  ["OBSERVATION", summary.observation_id],
  ["SESSION", sessionId],
]) {
  const created = await comments.create({ projectId: "ignored", objectType, objectId, content: `on the ${objectType.toLowerCase()}` });
  summary.comment_ids[objectType] = created.id;
}
const read = await comments.getById(summary.comment_ids.TRACE);
summary.comment_read = { id: read.id, object_type: read.objectType, object_id: read.objectId, content: read.content };
summary.comments_on_session = (await comments.get({ objectType: "SESSION", objectId: sessionId })).data.map((c) => c.id);

summary.errors = {
  unknown_queue: await errorOf(() => queues.getQueue("absent-queue")),
  item_in_unknown_queue: await errorOf(() => queues.createQueueItem("absent-queue", { objectId: "t", objectType: "TRACE" })),
  prompt_item: await errorOf(() => queues.createQueueItem(queue.id, { objectId: "p", objectType: "PROMPT" })),
  unknown_user: await errorOf(() => queues.createQueueAssignment(queue.id, { userId: "nobody" })),
  missing_object: await errorOf(() =>
    comments.create({ projectId: "p", objectType: "OBSERVATION", objectId: "absent-observation", content: "x" }),
  ),
  id_without_type: await errorOf(() => comments.get({ objectId: summary.trace_id })),
  unknown_comment: await errorOf(() => comments.getById("absent-comment")),
};

await bounded(summary, "provider_shutdown", () => provider.shutdown());
await bounded(summary, "client_shutdown", () => langfuse.shutdown());
report(summary);

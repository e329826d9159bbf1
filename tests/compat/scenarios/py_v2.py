"""Scenario for the legacy Python SDK langfuse<3 (batch ingestion API).

Follows the examples of the tracing tutorial (seed 000): a manual trace with
spans, a generation with usage, events, scores and end(); the @observe
decorator with langfuse_context.update_current_trace /
update_current_observation / score_current_trace; async functions and
asyncio.gather. The LLM call is a local fake.

Deviations from the tutorial text, because 2.x does not accept them:
- ``trace.end()`` does not exist on a 2.x trace client (only spans and
  generations have end()), so it is not called;
- event levels are the upper-case enum values (the tutorial's "info" /
  "debug" are not valid levels).
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import bounded, env, install_log_collector, sdk_read, shut_down, take_records  # noqa: E402


class _Usage:
    def __init__(self, prompt_tokens, completion_tokens):
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.total_tokens = prompt_tokens + completion_tokens


class FakeChatCompletion:
    """Stands in for the OpenAI client: deterministic content and usage."""

    def create(self, model, messages):
        question = messages[-1]["content"]
        content = f"[{model}] answer to: {question}"
        return content, _Usage(len(question.split()) + 10, len(content.split()))

    async def acreate(self, model, messages):
        await asyncio.sleep(0.01)
        return self.create(model, messages)


def main():
    collector = install_log_collector()
    from langfuse import Langfuse
    from langfuse.decorators import langfuse_context, observe

    run = env("COMPAT_RUN_ID")
    flush_timeout = float(os.environ.get("COMPAT_FLUSH_TIMEOUT", "30"))
    host = env("LANGFUSE_HOST")
    pk, sk = env("LANGFUSE_PUBLIC_KEY"), env("LANGFUSE_SECRET_KEY")
    llm = FakeChatCompletion()
    summary = {"sdk": "python", "major": "v2", "run": run}
    try:
        from importlib.metadata import version

        summary["sdk_version"] = version("langfuse")
    except Exception:  # noqa: BLE001
        pass

    langfuse = Langfuse(public_key=pk, secret_key=sk, host=host, flush_interval=0.5)
    summary["auth_check"] = _safe(langfuse.auth_check)

    # ---- manual trace: support-query ------------------------------------------------
    user_id = f"user_123-{run}"
    session_id = f"session_abc-{run}"
    trace = langfuse.trace(
        name="v2-support-query",
        user_id=user_id,
        session_id=session_id,
        metadata={"plan": "pro", "source": "web-chat"},
        tags=["support", "production"],
    )
    manual = {"trace": trace.id, "user_id": user_id, "session_id": session_id}

    retrieval = trace.span(
        name="retrieval",
        input={"query": "How do I reset my password?"},
        tags=["rag"],  # not a span field: the server must ignore it
    )
    manual["retrieval"] = retrieval.id
    retrieval_output = [
        "Reset via Settings > Security > Change Password",
        "Send a password-reset email from the login page",
    ]
    retrieval.event(name="rerank", level="DEFAULT", input={"candidates_before": 10, "candidates_after": 3})
    retrieval.end(output=retrieval_output)

    llm_span = trace.span(
        name="llm-answer",
        input={"context": retrieval_output, "question": "How do I reset my password?"},
    )
    manual["llm_span"] = llm_span.id
    content, usage = llm.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer using only the provided context."},
            {"role": "user", "content": "How do I reset my password?"},
        ],
    )
    generation = llm_span.generation(
        name="llm-generation",
        model="gpt-4o-mini",
        model_parameters={"temperature": 0.5, "max_tokens": 100},
        input=[{"role": "user", "content": "How do I reset my password?"}],
    )
    manual["generation"] = generation.id
    generation.end(
        output=content,
        usage={
            "input": usage.prompt_tokens,
            "output": usage.completion_tokens,
            "total": usage.total_tokens,
            "unit": "TOKENS",
        },
    )
    manual["usage"] = {"input": usage.prompt_tokens, "output": usage.completion_tokens, "total": usage.total_tokens}
    manual["answer"] = content
    llm_span.end(output=content)

    tool = trace.span(
        name="tool-call",
        input={"cmd": "GET /users/123"},
        output={"status": 200, "body": {"name": "Alice"}},
        metadata={"service": "users-api", "region": "us-east-1", "latency_ms": 42},
        level="DEFAULT",
        status_message="OK",
        version="1.2.0",
    )
    manual["tool"] = tool.id
    tool.end()

    ev_cache = trace.event(name="cache-hit", level="DEBUG", input={"cache_key": "query_abc123", "ttl_seconds": 300})
    ev_warn = trace.event(
        name="rate-limit-warning", level="WARNING", input={"provider": "openai", "retry_after_seconds": 5}
    )
    manual["event_cache"] = ev_cache.id
    manual["event_warn"] = ev_warn.id

    db_span = trace.span(name="db-call", input={"query": "SELECT * FROM users"})
    manual["db_span"] = db_span.id
    try:
        raise RuntimeError("connection refused")
    except RuntimeError as e:
        db_span.end(output={"error": str(e)}, level="ERROR", status_message=str(e))
        trace.score(name="error", value=1, comment=str(e))

    trace.score(name="helpfulness", value=0.92, comment="Answered correctly with context.")
    generation.score(name="gen-quality", value="good", data_type="CATEGORICAL")
    trace.update(output={"final": "done"})
    summary["manual"] = manual

    # ---- a caller-chosen trace id with URL-hostile characters ------------------------
    ext_id = f"ext:order 42/β?x=1#{run}"
    ext = langfuse.trace(id=ext_id, name="v2-external-id", input="ext-in")
    ext_span = ext.span(name="ext-span")
    ext_span.end(output="ext-out")
    summary["external_id"] = {"trace": ext_id, "span": ext_span.id}

    # ---- @observe decorator with langfuse_context -------------------------------------
    dec = {}

    @observe()
    def embed_query(query):
        dec["embed_query"] = langfuse_context.get_current_observation_id()
        langfuse_context.update_current_observation(
            metadata={"model": "text-embedding-3-small", "dimensions": 1536},
        )
        return [0.1, 0.2, 0.3]

    @observe()
    def vector_search(embedding, top_k=5):
        dec["vector_search"] = langfuse_context.get_current_observation_id()
        results = [
            {"id": "doc_1", "text": "To reset your password, go to Settings > Security.", "score": 0.95},
            {"id": "doc_2", "text": "Password requirements: 8+ chars, one uppercase.", "score": 0.87},
        ]
        langfuse_context.update_current_observation(metadata={"top_k": top_k, "results_returned": len(results)})
        return results[:top_k]

    @observe(as_type="generation")
    def generate_response(question, context):
        dec["generate_response"] = langfuse_context.get_current_observation_id()
        text, u = llm.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
        langfuse_context.update_current_observation(
            usage={"input": u.prompt_tokens, "output": u.completion_tokens},
            model="gpt-4o-mini",
        )
        langfuse_context.score_current_trace(name="completeness", value=0.85)
        dec["usage"] = {"input": u.prompt_tokens, "output": u.completion_tokens}
        return text

    @observe()
    def rag_pipeline(question, user_id):
        dec["trace"] = langfuse_context.get_current_trace_id()
        langfuse_context.update_current_trace(
            user_id=user_id,
            session_id=session_id,
            tags=["rag", "support", "production"],
            metadata={"pipeline_version": "2.1"},
        )
        embedding = embed_query(question)
        docs = vector_search(embedding, top_k=5)
        answer = generate_response(question, docs)
        langfuse_context.score_current_trace(
            name="context_relevance", value=0.91, comment="Top document directly answers the question."
        )
        return answer

    dec["user_id"] = f"user_456-{run}"
    dec["result"] = rag_pipeline("How do I reset my password?", user_id=dec["user_id"])
    summary["decorator"] = dec

    # ---- async: nested coroutines and asyncio.gather -------------------------------------
    adec = {"children": {}}

    @observe()
    async def fetch_documents(query):
        adec["children"]["fetch_documents"] = langfuse_context.get_current_observation_id()
        await asyncio.sleep(0.01)
        return ["Doc A", "Doc B", "Doc C"]

    @observe()
    async def call_llm(prompt):
        adec["children"]["call_llm"] = langfuse_context.get_current_observation_id()
        text, _ = await llm.acreate(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
        return text

    @observe()
    async def vector_search_async(question):
        adec["children"]["vector_search_async"] = langfuse_context.get_current_observation_id()
        await asyncio.sleep(0.02)
        return ["v1", "v2"]

    @observe()
    async def keyword_search(question):
        adec["children"]["keyword_search"] = langfuse_context.get_current_observation_id()
        await asyncio.sleep(0.01)
        return ["k1"]

    @observe()
    async def parallel_retrieval(question):
        adec["children"]["parallel_retrieval"] = langfuse_context.get_current_observation_id()
        v, k = await asyncio.gather(vector_search_async(question), keyword_search(question))
        return {"vector": v, "keyword": k}

    @observe()
    async def async_rag_pipeline(question):
        adec["trace"] = langfuse_context.get_current_trace_id()
        docs = await fetch_documents(question)
        retrieved = await parallel_retrieval(question)
        answer = await call_llm(f"Context: {docs} {retrieved}\n\nQuestion: {question}")
        return answer

    adec["result"] = asyncio.run(async_rag_pipeline("What is Langfuse?"))
    summary["async"] = adec

    # ---- exception inside @observe ---------------------------------------------------------
    exc = {}

    @observe()
    def failing_step():
        exc["span"] = langfuse_context.get_current_observation_id()
        raise ValueError("v2 boom")

    @observe()
    def failing_pipeline():
        exc["trace"] = langfuse_context.get_current_trace_id()
        try:
            failing_step()
        except ValueError:
            exc["raised"] = True
        return "recovered"

    failing_pipeline()
    summary["exception"] = exc

    bounded(langfuse_context.flush, flush_timeout, "decorator_flush", summary)
    bounded(langfuse.flush, flush_timeout, "flush", summary)
    # read back through the SDK's fetch_* helpers (their models validate the answers)
    reads = {}
    n_reads_log = len(collector.records)
    mt = manual["trace"]

    def fetch_trace():
        t = langfuse.fetch_trace(mt).data
        return {"name": t.name, "observations": sorted(o.id for o in t.observations), "scores": sorted(s.name for s in t.scores)}

    sdk_read(reads, "fetch_trace", fetch_trace)
    sdk_read(reads, "fetch_traces(user_id)", lambda: [t.id for t in langfuse.fetch_traces(user_id=user_id).data])
    sdk_read(reads, "fetch_observations(trace_id)", lambda: sorted(o.id for o in langfuse.fetch_observations(trace_id=mt, limit=100).data))
    sdk_read(reads, "fetch_observation", lambda: langfuse.fetch_observation(manual["generation"]).data.model)
    sdk_read(reads, "fetch_sessions", lambda: sorted(s.id for s in langfuse.fetch_sessions(limit=100).data))
    summary["sdk_reads"] = reads
    summary["sdk_reads_log"] = take_records(collector, n_reads_log)
    shut_down(langfuse, summary, collector.records, flush_timeout)


def _safe(fn):
    try:
        return bool(fn())
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}: {exc}"


if __name__ == "__main__":
    main()

//! The indexes serve the lists' orders: with sorts and sequential scans discouraged, the
//! planner still finds an index path for the newest-first trace, observation and score
//! lists, their reverse, and the retention batch (equality lookups depend on statistics an
//! empty table lacks, so they are not checked here).

mod support;

async fn plan(client: &tokio_postgres::Client, sql: &str) -> String {
    let rows = client
        .query(&format!("EXPLAIN {sql}"), &[])
        .await
        .unwrap_or_else(|e| panic!("explain {sql}: {e}"));
    rows.iter()
        .map(|row| row.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_orders_come_from_indexes() {
    let key = tempfile::tempdir().expect("schema key");
    let store = support::open_in(key.path(), None).await;
    let (client, connection) = support::client_in(key.path()).await;
    client
        .batch_execute("SET enable_seqscan = off; SET enable_sort = off")
        .await
        .expect("planner settings");
    let cases = [
        (
            "SELECT id FROM traces t WHERE t.project_id = 'p' \
             ORDER BY t.timestamp DESC NULLS LAST, t.id DESC LIMIT 50",
            "traces_by_time_desc",
        ),
        (
            "SELECT id FROM traces t WHERE t.project_id = 'p' \
             ORDER BY t.timestamp ASC NULLS FIRST, t.id ASC LIMIT 50",
            "traces_by_time_desc",
        ),
        (
            "SELECT id FROM scores s WHERE s.project_id = 'p' \
             ORDER BY s.timestamp DESC NULLS LAST, s.id DESC LIMIT 50",
            "scores_by_time_desc",
        ),
        (
            "SELECT id FROM observations o WHERE o.project_id = 'p' \
             ORDER BY o.sort_time DESC, o.id DESC LIMIT 50",
            "observations_by_time",
        ),
        (
            "SELECT id FROM traces WHERE project_id = 'p' AND timestamp < 5 \
             ORDER BY timestamp ASC NULLS FIRST LIMIT 5 FOR UPDATE SKIP LOCKED",
            "traces_by_time_desc",
        ),
        // A version's latency percentile: a walk from either end of the latency index.
        (
            "SELECT (end_time - start_time) FROM observations WHERE project_id = 'p' \
             AND prompt_name = 'greet' AND prompt_version = 2 \
             AND (end_time - start_time) IS NOT NULL \
             ORDER BY (end_time - start_time) ASC LIMIT 1 OFFSET 10",
            "observations_by_prompt_latency",
        ),
        (
            "SELECT (end_time - start_time) FROM observations WHERE project_id = 'p' \
             AND prompt_name = 'greet' AND prompt_version = 2 \
             AND (end_time - start_time) IS NOT NULL \
             ORDER BY (end_time - start_time) DESC LIMIT 1 OFFSET 10",
            "observations_by_prompt_latency",
        ),
    ];
    // The generations of one prompt (the per-version metrics, the generations of a
    // version) come from the partial index of observations by prompt.
    let by_prompt = plan(
        &client,
        "SELECT o.id FROM observations o WHERE o.project_id = 'p' \
         AND o.prompt_name = 'greet' AND o.prompt_version IS NOT NULL",
    )
    .await;
    assert!(by_prompt.contains("observations_by_prompt"), "{by_prompt}");
    // Traces filtered by a prompt read the prompt's observations from the same index.
    let filter = spindle_store::Filter {
        column: "promptName".to_owned(),
        operator: "=".to_owned(),
        value: spindle_store::FilterValue::String("greet".to_owned()),
        key: None,
    };
    let condition = spindle_store::sql::compile_trace_filter(
        spindle_store::sql::Dialect::Postgres,
        "p",
        0,
        &filter,
    )
    .expect("filter");
    let statement = condition.finish_text().into_owned();
    let mut literal = statement.clone();
    for (position, param) in condition.params.iter().enumerate().rev() {
        let spindle_store::sql::Param::Text(text) = param else {
            panic!("unexpected parameter {param:?}");
        };
        literal = literal.replace(&format!("${}", position + 1), &format!("'{text}'"));
    }
    let traces_by_prompt = plan(
        &client,
        &format!(
            "SELECT t.id FROM traces t WHERE t.project_id = 'p' AND {literal} \
             ORDER BY t.timestamp DESC NULLS LAST, t.id DESC LIMIT 50"
        ),
    )
    .await;
    assert!(
        traces_by_prompt.contains("observations_by_prompt"),
        "{statement}\n{traces_by_prompt}"
    );
    for (sql, index) in cases {
        let plan = plan(&client, sql).await;
        assert!(plan.contains(index), "{sql}\n{plan}");
        assert!(!plan.contains("Sort"), "{sql}\n{plan}");
    }
    drop(client);
    let _ = connection.await;
    use spindle_store::Store;
    store.shutdown().await.expect("shutdown");
}

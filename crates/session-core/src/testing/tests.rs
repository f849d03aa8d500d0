use super::*;

#[tokio::test]
async fn an_untouched_or_read_only_session_writes_and_sends_nothing() {
    let test = TestSession::new();
    let outcome = test.commit(StatusCode::OK).await.expect("commit");
    assert!(!outcome.sends_id() && !outcome.is_stored() && outcome.id().is_none());
    assert!(outcome.headers().is_empty());

    let test = TestSession::with_values([("n", 1)]).await.expect("stored");
    assert_eq!(test.session().get::<u32>("n").await.expect("get"), Some(1));
    let outcome = test.commit(StatusCode::OK).await.expect("commit");
    assert!(!outcome.sends_id(), "{outcome:?}");
    assert_eq!(outcome.stored::<u32>("n").expect("decode"), Some(1));
    assert_eq!(outcome.stored_keys(), ["n"]);
}

/// A client's requests one after the other: the data follows the id; a server error stores
/// nothing; `cycle_id` changes the id and keeps the data; `expire` removes it all.
#[tokio::test]
async fn requests_follow_one_another() {
    let first = TestSession::new();
    first
        .session()
        .insert("user", "alice")
        .await
        .expect("insert");
    let created = first.commit(StatusCode::OK).await.expect("commit");
    assert!(created.sends_id());
    let id = created.id().expect("an id").clone();

    let failing = created.next();
    failing.session().insert("cart", 1).await.expect("insert");
    let failed = failing
        .commit(StatusCode::INTERNAL_SERVER_ERROR)
        .await
        .expect("commit");
    assert_eq!(failed.stored::<u32>("cart").expect("decode"), None);

    let login = failed.next();
    login.session().cycle_id();
    let logged_in = login.commit(StatusCode::OK).await.expect("commit");
    assert!(logged_in.sends_id());
    assert_ne!(logged_in.id(), Some(&id));
    assert_eq!(
        logged_in
            .stored::<String>("user")
            .expect("decode")
            .as_deref(),
        Some("alice")
    );

    let logout = logged_in.next();
    logout.session().expire();
    let ended = logout.commit(StatusCode::OK).await.expect("commit");
    assert!(ended.removes_id() && !ended.sends_id() && !ended.is_stored());
    assert_eq!(ended.id(), None);
    let after = ended.next();
    assert!(after.session().is_empty().await.expect("len"));
}

#[tokio::test]
async fn a_value_of_another_type_is_a_decode_error() {
    let test = TestSession::with_values([("n", "text")])
        .await
        .expect("stored");
    let outcome = test.commit(StatusCode::OK).await.expect("commit");
    assert!(matches!(outcome.stored::<u32>("n"), Err(Error::Decode(_))));
}

//! Compile tests of `#[observe]`: accepted forms build, mistakes fail with errors pointing at the
//! offending token (`.stderr` snapshots).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}

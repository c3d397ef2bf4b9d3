//! napi-build sets the linker arguments a Node addon needs (symbols resolved by Node at load).
fn main() {
    napi_build::setup();
}

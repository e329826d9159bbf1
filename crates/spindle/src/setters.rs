//! `setters!`: the builder methods that only store their argument in a field.

/// Declares builder methods `pub fn name(mut self, param: Type) -> Self` that set
/// `self.field` to an expression of `param` and return the builder; each keeps its own
/// attributes, docs and doctests.
macro_rules! setters {
    ($(
        $(#[$attribute:meta])*
        $name:ident($param:ident: $type:ty) => $field:ident = $value:expr;
    )*) => {
        $(
            $(#[$attribute])*
            pub fn $name(mut self, $param: $type) -> Self {
                self.$field = $value;
                self
            }
        )*
    };
}

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

/// Declares builder methods `pub fn name<T: Serialize + ?Sized>(mut self, param: &T) -> Self`
/// that set `self.field` to an expression of `param` (usually its JSON value through
/// `json::json_value`) and return the builder.
macro_rules! json_setters {
    ($(
        $(#[$attribute:meta])*
        $name:ident($param:ident) => $field:ident = $value:expr;
    )*) => {
        $(
            $(#[$attribute])*
            pub fn $name<T: serde::Serialize + ?Sized>(mut self, $param: &T) -> Self {
                self.$field = $value;
                self
            }
        )*
    };
}

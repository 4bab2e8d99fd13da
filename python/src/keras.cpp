// Bound in a later step.
#include "bindings.h"

namespace qlite::python {
void bind_keras(py::module_& m) { (void)m; }
}  // namespace qlite::python

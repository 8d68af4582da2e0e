/* Headers bindgen reads (see build.rs).  <flux/jobtap.h> declares functions
 * that only the job-manager defines, so it is included only with the
 * `jobtap` feature (build.rs defines FLUX_BINDINGS_JOBTAP).
 */
#include <flux/core.h>
#include "shim.h"
#ifdef FLUX_BINDINGS_JOBTAP
#include <flux/jobtap.h>
#endif

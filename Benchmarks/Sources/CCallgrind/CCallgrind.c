// The requests are static inline functions of the header; SwiftPM wants one source file per C target.
#include "CCallgrind.h"

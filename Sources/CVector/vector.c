// CVector is its header (static inline functions); a C target needs one source file.
#include "CVector.h"

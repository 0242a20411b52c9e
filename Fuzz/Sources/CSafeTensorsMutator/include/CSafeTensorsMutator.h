#ifndef LOCKSTEP_CSAFETENSORSMUTATOR_H
#define LOCKSTEP_CSAFETENSORSMUTATOR_H
/// Linked into the fuzzers of safetensors-based files: defines LLVMFuzzerCustomMutator, which
/// mutates the JSON header or the data area and keeps the 8-byte header length consistent, so
/// that mutations reach the JSON and metadata readers instead of failing the length check.
int lockstep_safetensors_mutator_linked(void);
#endif

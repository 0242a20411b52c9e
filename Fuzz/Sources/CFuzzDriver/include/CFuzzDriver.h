#ifndef LOCKSTEP_CFUZZDRIVER_H
#define LOCKSTEP_CFUZZDRIVER_H
/// libFuzzer's driver (in the runtime that -sanitize=fuzzer links) on this executable's
/// LLVMFuzzerTestOneInput. SwiftPM links an executable with `--defsym main=<Module>_main`, so
/// libFuzzer's own main is not used; each fuzzer's `<Module>_main` calls this instead.
int lockstep_fuzz_main(int argc, char **argv);
#endif

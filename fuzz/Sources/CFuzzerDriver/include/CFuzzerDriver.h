#ifndef PORTICO_FUZZER_DRIVER_H
#define PORTICO_FUZZER_DRIVER_H

/// Runs libFuzzer on LLVMFuzzerTestOneInput with the command line's options; returns its exit code.
int portico_fuzz_main(int argc, char **argv);

#endif

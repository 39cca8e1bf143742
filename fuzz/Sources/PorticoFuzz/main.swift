import CFuzzerDriver

#if canImport(Glibc)
import Glibc
#endif

// libFuzzer takes over from here: it parses its options and calls LLVMFuzzerTestOneInput
// (FuzzTarget.swift) once per input.
exit(portico_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

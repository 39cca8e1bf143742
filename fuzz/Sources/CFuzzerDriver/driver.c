// SwiftPM names an executable's entry point <module>_main and aliases main to it, so libFuzzer's own
// main is never linked: the Swift main calls libFuzzer's driver instead, through this file, since
// LLVMFuzzerRunDriver is a C function that Swift has no declaration of.
#include <stddef.h>
#include <stdint.h>
#include "CFuzzerDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int portico_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

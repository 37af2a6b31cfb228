/* A stand-in for Windows' bcryptprimitives.dll, for running the test suite
 * under Wine 8 (which lacks it): Rust's standard library draws its random
 * numbers from ProcessPrng there. It forwards to SystemFunction036
 * (RtlGenRandom, in advapi32), which Wine has. Never shipped: real Windows
 * has the real DLL. Built by scripts/windows-leg.sh with mingw. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}

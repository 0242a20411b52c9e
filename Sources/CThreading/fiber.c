// Fibers: stacks of their own that one thread switches between, so that several workers share a
// thread and hand it over at collectives instead of waking each other through the kernel.
//
// On x86-64 a switch saves the callee-saved registers and the floating-point control words on the
// running stack and loads the other stack (tens of nanoseconds); elsewhere it is glibc's
// swapcontext, which also saves the signal mask (a system call). Under AddressSanitizer and
// ThreadSanitizer every switch is announced to the sanitizer, which otherwise takes the new stack
// for memory it does not know.
#include "CThreading.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCKSTEP_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define LOCKSTEP_TSAN 1
#endif
#endif

#ifdef LOCKSTEP_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#endif
#ifdef LOCKSTEP_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

#if defined(__x86_64__) && defined(__ELF__)
#define LOCKSTEP_FIBER_ASM 1
#else
#include <ucontext.h>
#endif

struct lockstep_fiber {
#ifdef LOCKSTEP_FIBER_ASM
    void *sp;                    // the saved stack pointer of a fiber that is not running
#else
    ucontext_t context;
#endif
    void *mapping;               // guard page and stack; NULL for a thread's own context
    size_t mapping_bytes;
    const void *stack_bottom;    // the usable stack, for AddressSanitizer
    size_t stack_bytes;
    void (*body)(void *);
    void *body_context;
    lockstep_fiber *return_to;
    int finished;
    void *tsan_fiber;
    void *asan_fake_stack;
};

#ifdef LOCKSTEP_FIBER_ASM
// lockstep_fiber_jump(save, load): pushes rbp, rbx, r12–r15 and MXCSR/x87 control word, stores rsp
// in *save, loads rsp from load and pops the same. A new fiber's stack is laid out so that the pop
// sequence lands in the trampoline with r12 = the fiber and r13 = lockstep_fiber_main.
void lockstep_fiber_jump(void **save, void *load);
void lockstep_fiber_trampoline(void);
__asm__(
    ".text\n"
    ".globl lockstep_fiber_jump\n"
    ".hidden lockstep_fiber_jump\n"
    ".type lockstep_fiber_jump,@function\n"
    "lockstep_fiber_jump:\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  subq $8, %rsp\n"
    "  stmxcsr (%rsp)\n"
    "  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n"
    "  fldcw 4(%rsp)\n"
    "  addq $8, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    ".size lockstep_fiber_jump,.-lockstep_fiber_jump\n"
    ".globl lockstep_fiber_trampoline\n"
    ".hidden lockstep_fiber_trampoline\n"
    ".type lockstep_fiber_trampoline,@function\n"
    "lockstep_fiber_trampoline:\n"
    "  movq %r12, %rdi\n"
    "  callq *%r13\n"
    "  ud2\n"
    ".size lockstep_fiber_trampoline,.-lockstep_fiber_trampoline\n");
#endif

static void lockstep_fiber_arrived(lockstep_fiber *self) {
#ifdef LOCKSTEP_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake_stack, NULL, NULL);
#else
    (void)self;
#endif
}

void lockstep_fiber_switch(lockstep_fiber *from, lockstep_fiber *to) {
#ifdef LOCKSTEP_ASAN
    // A finished fiber never comes back: its fake stack goes (NULL save).
    __sanitizer_start_switch_fiber(from->finished ? NULL : &from->asan_fake_stack, to->stack_bottom, to->stack_bytes);
#endif
#ifdef LOCKSTEP_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef LOCKSTEP_FIBER_ASM
    lockstep_fiber_jump(&from->sp, to->sp);
#else
    swapcontext(&from->context, &to->context);
#endif
    lockstep_fiber_arrived(from);
}

// The first frame of every fiber: runs the body, then leaves for good.
#ifdef LOCKSTEP_FIBER_ASM
static void lockstep_fiber_main(lockstep_fiber *self) __attribute__((noreturn, used));
static void lockstep_fiber_main(lockstep_fiber *self) {
#else
static void lockstep_fiber_main_words(unsigned high, unsigned low) __attribute__((noreturn));
static void lockstep_fiber_main_words(unsigned high, unsigned low) {
    lockstep_fiber *self = (lockstep_fiber *)(((uintptr_t)high << 32) | (uintptr_t)low);
#endif
    lockstep_fiber_arrived(self);
    self->body(self->body_context);
    self->finished = 1;
    lockstep_fiber_switch(self, self->return_to);
    abort();   // nothing switches back to a finished fiber
}

static const void *lockstep_thread_stack(size_t *bytes) {
    pthread_attr_t attributes;
    void *bottom = NULL;
    *bytes = 0;
    if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
        pthread_attr_getstack(&attributes, &bottom, bytes);
        pthread_attr_destroy(&attributes);
    }
    return bottom;
}

lockstep_fiber *lockstep_fiber_for_thread(void) {
    lockstep_fiber *fiber = calloc(1, sizeof *fiber);
    if (fiber == NULL) return NULL;
    fiber->stack_bottom = lockstep_thread_stack(&fiber->stack_bytes);
#ifdef LOCKSTEP_TSAN
    fiber->tsan_fiber = __tsan_get_current_fiber();
#endif
    return fiber;
}

lockstep_fiber *lockstep_fiber_create(void (*body)(void *), void *context, size_t stack_bytes, lockstep_fiber *return_to) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (stack_bytes < 16 * page) stack_bytes = 16 * page;
    stack_bytes = (stack_bytes + page - 1) / page * page;
    lockstep_fiber *fiber = calloc(1, sizeof *fiber);
    if (fiber == NULL) return NULL;
    fiber->mapping_bytes = stack_bytes + page;
    void *mapping = mmap(NULL, fiber->mapping_bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) {
        int error = errno;
        free(fiber);
        errno = error;
        return NULL;
    }
    if (mprotect(mapping, page, PROT_NONE) != 0) {
        int error = errno;
        munmap(mapping, fiber->mapping_bytes);
        free(fiber);
        errno = error;
        return NULL;
    }
    fiber->mapping = mapping;
    fiber->stack_bottom = (char *)mapping + page;
    fiber->stack_bytes = stack_bytes;
    fiber->body = body;
    fiber->body_context = context;
    fiber->return_to = return_to;
#ifdef LOCKSTEP_FIBER_ASM
    uintptr_t top = ((uintptr_t)fiber->stack_bottom + stack_bytes) & ~(uintptr_t)15;
    uint64_t *frame = (uint64_t *)(top - 64);
    uint32_t mxcsr;
    uint16_t x87;
    __asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
    __asm__ __volatile__("fnstcw %0" : "=m"(x87));
    frame[0] = (uint64_t)mxcsr | (uint64_t)x87 << 32;
    frame[1] = 0;                                      // r15
    frame[2] = 0;                                      // r14
    frame[3] = (uint64_t)(uintptr_t)lockstep_fiber_main;   // r13
    frame[4] = (uint64_t)(uintptr_t)fiber;             // r12
    frame[5] = 0;                                      // rbx
    frame[6] = 0;                                      // rbp: the end of frame-pointer walks
    frame[7] = (uint64_t)(uintptr_t)lockstep_fiber_trampoline;
    fiber->sp = frame;
#else
    getcontext(&fiber->context);
    fiber->context.uc_stack.ss_sp = (void *)fiber->stack_bottom;
    fiber->context.uc_stack.ss_size = stack_bytes;
    fiber->context.uc_link = NULL;
    uintptr_t address = (uintptr_t)fiber;
    makecontext(&fiber->context, (void (*)(void))lockstep_fiber_main_words, 2,
                (unsigned)(address >> 32), (unsigned)(address & 0xFFFFFFFFu));
#endif
#ifdef LOCKSTEP_TSAN
    fiber->tsan_fiber = __tsan_create_fiber(0);
#endif
    return fiber;
}

void lockstep_fiber_destroy(lockstep_fiber *fiber) {
    if (fiber == NULL) return;
#ifdef LOCKSTEP_TSAN
    if (fiber->mapping != NULL) __tsan_destroy_fiber(fiber->tsan_fiber);
#endif
    if (fiber->mapping != NULL) munmap(fiber->mapping, fiber->mapping_bytes);
    free(fiber);
}

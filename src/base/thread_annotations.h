// Clang's thread-safety analysis (-Wthread-safety): locking rules the
// compiler checks instead of comments. GCC ignores them; scripts/test.sh runs
// a clang syntax-only pass over src/ with -Wthread-safety -Werror.
//
//   GUARDED_BY(mu)     a member read or written only with `mu` held
//   REQUIRES(mu)       a function called only with `mu` held
//   EXCLUDES(mu)       a function that takes `mu` itself (so not with it held)
//
// Thread confinement ("poll thread only") is not a lock and stays a comment.
#pragma once

#if defined(__clang__)
#define KSTRAND_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KSTRAND_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) KSTRAND_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY KSTRAND_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) KSTRAND_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) KSTRAND_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) KSTRAND_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) KSTRAND_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) KSTRAND_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) KSTRAND_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) KSTRAND_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) KSTRAND_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) KSTRAND_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) KSTRAND_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS KSTRAND_THREAD_ANNOTATION(no_thread_safety_analysis)

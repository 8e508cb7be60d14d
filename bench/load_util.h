/* load_util.h - helpers of `mqcheck bench load` (bench/bench_load.c): broker
 * processes on free loopback ports, their CPU and peak memory from /proc, and
 * the SVG plot of a sweep. Prefix lu_. Not a library: bench code only. */
#ifndef MQC_LOAD_UTIL_H
#define MQC_LOAD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A free loopback TCP port (0 when none could be found). */
uint16_t lu_free_port(void);
/* Starts argv (argv[0] is the program path) with stdout/stderr to log_path
 * (NULL: /dev/null) and waits up to 10 s until 127.0.0.1:port accepts.
 * Returns the child's pid, or -1 (the child is killed). */
pid_t lu_spawn(char *const argv[], uint16_t port, const char *log_path);
/* SIGTERM, then SIGKILL after 5 s; reaps the child. */
void lu_stop(pid_t pid);
/* CPU seconds (user + system) used so far by pid; -1 when unknown. */
double lu_proc_cpu(pid_t pid);
/* Peak resident set size (VmHWM) of pid in KiB; -1 when unknown. */
long lu_proc_hwm_kb(pid_t pid);
/* Seconds pid's main thread has spent runnable but waiting for a CPU
 * (/proc/PID/schedstat); pid 0 = this process. -1 when unknown. */
double lu_proc_runwait(pid_t pid);
/* CPU seconds used so far by this process. */
double lu_self_cpu(void);

/* One curve of a sweep: points in offered order. Borrowed by lu_svg_write. */
typedef struct {
  const char *name;
  size_t n;
  const double *offered, *delivered, *p99_ms;
  /* the unlimited (flood) step, drawn as a hollow marker; offered 0 = none */
  double flood_offered, flood_delivered, flood_p99_ms;
} lu_series;

/* Writes two side-by-side panels (delivered vs offered msg/s, and p99
 * latency on a log scale vs offered) with one curve per series. Returns 0,
 * or -1 when path cannot be written. */
int lu_svg_write(const char *path, const char *title, const lu_series *s, size_t ns);

#endif

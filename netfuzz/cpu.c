/* cpu.c - what the idle-CPU oracle measures (internal.h): the CPU time of a
 * process and all its threads from /proc, how long its threads were
 * runnable, and the idle connections held open while a broker at rest is
 * measured.
 *
 * Why "runnable" and not CPU time: on a shared machine a broker that spins
 * gets only its share of a core (a fifth at a load average of 10 on two
 * cores), so its CPU time per second of wall time says as much about the
 * other work as about the broker. The time its threads were runnable (on a
 * CPU or waiting in the run queue for one, /proc/PID/task/TID/schedstat)
 * is close to the wall time for a spinning thread whatever the load, and
 * close to zero for a thread that sleeps in poll. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* utime + stime of the whole process (every thread), in ns. */
static int read_stat_cpu(int pid, uint64_t *ns) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* the command name may hold spaces and parentheses: fields start after
   * the last ')' */
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long long ut = 0, st = 0;
  /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) hz = 100;
  *ns = (uint64_t)(ut + st) * (1000000000ull / (uint64_t)hz);
  return 0;
}

/* run + run-queue wait of every thread, in ns; -1 when any is unreadable. */
static int read_runnable(int pid, uint64_t *ns) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  uint64_t sum = 0;
  int rc = 0, seen = 0;
  struct dirent *e;
  while ((e = readdir(d))) { /* bounded by the process's threads */
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char p2[128];
    snprintf(p2, sizeof p2, "/proc/%d/task/%.20s/schedstat", pid, e->d_name);
    FILE *f = fopen(p2, "r");
    unsigned long long run = 0, wait = 0;
    /* a thread that ended since readdir is simply not counted */
    if (!f) continue;
    if (fscanf(f, "%llu %llu", &run, &wait) != 2) rc = -1;
    fclose(f);
    sum += run + wait;
    seen++;
  }
  closedir(d);
  if (!seen) return -1;
  *ns = sum;
  return rc;
}

int mqz__cpu_sample(int pid, mqz__cpu *out) {
  memset(out, 0, sizeof *out);
  if (pid <= 0) return -1;
  out->at_ms = mqn_now_ms();
  if (read_stat_cpu(pid, &out->cpu_ns)) return -1;
  out->has_runnable = read_runnable(pid, &out->runnable_ns) == 0;
  return 0;
}

void mqz__cpu_share(const mqz__cpu *a, const mqz__cpu *b, double *used, double *busy) {
  double wall_ns = (double)(b->at_ms - a->at_ms) * 1e6;
  if (wall_ns <= 0) wall_ns = 1e6;
  /* counters only grow, except when a thread ends between the samples */
  double u = b->cpu_ns > a->cpu_ns ? (double)(b->cpu_ns - a->cpu_ns) / wall_ns : 0;
  double r =
      b->runnable_ns > a->runnable_ns ? (double)(b->runnable_ns - a->runnable_ns) / wall_ns : 0;
  *used = u;
  *busy = a->has_runnable && b->has_runnable ? r : u;
}

/* ---- idle connections ---- */

/* A CONNECT for v (clean start, Keep Alive 60 s), encoded into buf. */
static size_t idle_connect(mqc_version v, const char *cid, const char *user, const char *pass,
                           uint8_t *buf, size_t cap) {
  mqc_packet pkt;
  mqc_packet_init(&pkt, MQC_CONNECT, v);
  pkt.connect.clean_start = true;
  pkt.connect.keep_alive = 60;
  pkt.connect.client_id = mqc_cstr(cid);
  if (user) pkt.connect.has_username = true, pkt.connect.username = mqc_cstr(user);
  if (pass) pkt.connect.has_password = true, pkt.connect.password = mqc_cstr(pass);
  size_t len = 0;
  return mqc_encode(&pkt, v, buf, cap, &len) == MQC_OK ? len : 0;
}

unsigned mqz__idlers_open(mqz__idlers *d, const mqn_url *url, mqn_tls *tls, mqc_version v,
                          const char *client_id, const char *username, const char *password,
                          int timeout_ms) {
  memset(d, 0, sizeof *d);
  unsigned open = 0;
  for (unsigned k = 0; k < MQZ__IDLERS; k++) {
    char err[200];
    if (mqn_dial_blocking(url, tls, NULL, timeout_ms, &d->c[k], err, sizeof err) != MQN_OK) {
      d->c[k] = NULL;
      continue;
    }
    open++;
    if (k == 0) continue; /* the transport alone: no MQTT byte sent */
    uint8_t buf[512], in[512];
    size_t n = idle_connect(v, client_id, username, password, buf, sizeof buf), got = 0;
    /* its CONNACK (or none) is not judged here: the liveness probe judges
     * that; what counts is that the broker holds a connection at rest */
    if (n && mqn_send_all(d->c[k], buf, n, timeout_ms) == MQN_OK)
      (void)mqn_recv_packet(d->c[k], in, sizeof in, &got, timeout_ms);
  }
  return open;
}

void mqz__idlers_close(mqz__idlers *d) {
  for (unsigned k = 0; k < MQZ__IDLERS; k++) {
    mqn_conn_free(d->c[k]);
    d->c[k] = NULL;
  }
}

/* load_util.c - see load_util.h. */
#include "load_util.h"

#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mqn.h"

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

uint16_t lu_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

static bool port_up(uint16_t port) {
  char u[64];
  snprintf(u, sizeof u, "tcp://127.0.0.1:%u", port);
  mqn_url url;
  mqn_conn *c = NULL;
  if (mqn_url_parse(u, &url) != MQN_OK) return false;
  if (mqn_dial_blocking(&url, NULL, NULL, 200, &c, NULL, 0) != MQN_OK) return false;
  mqn_conn_free(c);
  return true;
}

pid_t lu_spawn(char *const argv[], uint16_t port, const char *log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  for (int i = 0; pid > 0 && i < 100; i++) {           /* 10 s at most */
    if (waitpid(pid, NULL, WNOHANG) == pid) return -1; /* exited: port taken? */
    if (port_up(port)) return pid;
    sleep_ms(100);
  }
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  return -1;
}

void lu_stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 50; i++) { /* 5 s, then SIGKILL */
    if (waitpid(pid, NULL, WNOHANG) == pid) return;
    sleep_ms(100);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

double lu_proc_cpu(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* fields after ')': state(3) ... utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? (double)(ut + st) / (double)hz : -1;
}

long lu_proc_hwm_kb(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long kb = -1;
  while (fgets(line, sizeof line, f)) /* bounded by the file */
    if (!strncmp(line, "VmHWM:", 6)) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

double lu_proc_runwait(pid_t pid) {
  char path[64];
  if (pid > 0)
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
  else
    snprintf(path, sizeof path, "/proc/self/schedstat");
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  unsigned long long run = 0, wait = 0;
  int k = fscanf(f, "%llu %llu", &run, &wait);
  fclose(f);
  return k == 2 ? (double)wait / 1e9 : -1;
}

double lu_self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- SVG ------------------------------------------------------------------ */

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

typedef struct {
  double x0, y0, w, h; /* panel area in pixels */
  double xmin, xmax;   /* log10 of offered */
  double ymin, ymax;   /* log10 of the value */
} panel;

static double px(const panel *p, double v) {
  double l = log10(v > 1e-9 ? v : 1e-9);
  return p->x0 + (l - p->xmin) / (p->xmax - p->xmin) * p->w;
}
static double py(const panel *p, double v) {
  double l = log10(v > 1e-9 ? v : 1e-9);
  if (l < p->ymin) l = p->ymin;
  return p->y0 + p->h - (l - p->ymin) / (p->ymax - p->ymin) * p->h;
}

static void fmt_si(char *b, size_t n, double v) {
  if (v >= 1e6)
    snprintf(b, n, "%gM", v / 1e6);
  else if (v >= 1e3)
    snprintf(b, n, "%gk", v / 1e3);
  else
    snprintf(b, n, "%g", v);
}

static void axes(FILE *f, const panel *p, const char *xlabel, const char *ylabel) {
  fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n",
          p->x0, p->y0, p->w, p->h);
  char b[32];
  for (int e = (int)floor(p->xmin); e <= (int)ceil(p->xmax); e++) { /* decades */
    double v = pow(10, e);
    double x = px(p, v);
    if (x < p->x0 - 0.5 || x > p->x0 + p->w + 0.5) continue;
    fmt_si(b, sizeof b, v);
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", x, p->y0, x,
            p->y0 + p->h);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%s</text>\n", x,
            p->y0 + p->h + 14, b);
  }
  for (int e = (int)floor(p->ymin); e <= (int)ceil(p->ymax); e++) {
    double v = pow(10, e);
    double y = py(p, v);
    /* the bottom edge is clamped: a tick there would sit on the next one */
    if (y < p->y0 - 0.5 || y > p->y0 + p->h - 6) continue;
    fmt_si(b, sizeof b, v);
    fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", p->x0, y,
            p->x0 + p->w, y);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%s</text>\n", p->x0 - 4,
            y + 4, b);
  }
  fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle'>%s</text>\n",
          p->x0 + p->w / 2, p->y0 + p->h + 32, xlabel);
  fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle'>%s</text>\n",
          p->x0 + p->w / 2, p->y0 - 8, ylabel);
}

static void curve(FILE *f, const panel *p, const double *x, const double *y, size_t n,
                  const char *color) {
  fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", color);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%.1f,%.1f ", px(p, x[i]), py(p, y[i]));
  fprintf(f, "'/>\n");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n", px(p, x[i]), py(p, y[i]), color);
}

static void range(const lu_series *s, size_t ns, int which, double *lo, double *hi) {
  *lo = 1e300;
  *hi = -1e300;
  for (size_t k = 0; k < ns; k++)
    for (size_t i = 0; i <= s[k].n; i++) { /* i == n: the flood point */
      double v = i < s[k].n ? (which == 0   ? s[k].offered[i]
                               : which == 1 ? s[k].delivered[i]
                                            : s[k].p99_ms[i])
                            : (which == 0   ? s[k].flood_offered
                               : which == 1 ? s[k].flood_delivered
                                            : s[k].flood_p99_ms);
      if (v <= 0) continue;
      double l = log10(v);
      if (l < *lo) *lo = l;
      if (l > *hi) *hi = l;
    }
  if (*lo > *hi) *lo = 0, *hi = 1;
  *lo = floor(*lo * 4) / 4 - 0.05;
  *hi = ceil(*hi * 4) / 4 + 0.05;
}

int lu_svg_write(const char *path, const char *title, const lu_series *s, size_t ns) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  double xl, xh, dl, dh, ll, lh;
  range(s, ns, 0, &xl, &xh);
  range(s, ns, 1, &dl, &dh);
  range(s, ns, 2, &ll, &lh);
  if (dl > xl) dl = xl; /* delivered and offered on one scale: the diagonal */
  if (dh < xh) dh = xh;
  panel a = {70, 50, 380, 300, xl, xh, dl, dh};
  panel b = {560, 50, 380, 300, xl, xh, ll, lh};
  fprintf(f,
          "<svg xmlns='http://www.w3.org/2000/svg' width='980' height='%zu' "
          "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
          (size_t)420 + 16 * ns);
  fprintf(f, "<text x='490' y='20' font-size='14' text-anchor='middle'>%s</text>\n", title);
  fprintf(f, "<text x='300' y='410' font-size='12'>dots: offered rate steps (open loop); "
             "rings: unlimited flood, at the rate TCP took</text>\n");
  axes(f, &a, "offered msg/s (log)", "delivered msg/s (log)");
  axes(f, &b, "offered msg/s (log)", "p99 latency, ms (log)");
  /* delivered == offered: the diagonal a broker keeping up follows */
  double d0 = pow(10, xl > dl ? xl : dl), d1 = pow(10, xh < dh ? xh : dh);
  fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999' stroke-dasharray='4'/>\n",
          px(&a, d0), py(&a, d0), px(&a, d1), py(&a, d1));
  for (size_t k = 0; k < ns; k++) {
    const char *c = colors[k % (sizeof colors / sizeof *colors)];
    curve(f, &a, s[k].offered, s[k].delivered, s[k].n, c);
    curve(f, &b, s[k].offered, s[k].p99_ms, s[k].n, c);
    if (s[k].flood_offered > 0) { /* not on the curve: its offer is what TCP took */
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='5' fill='none' stroke='%s' stroke-width='2'/>\n",
              px(&a, s[k].flood_offered), py(&a, s[k].flood_delivered), c);
      fprintf(f, "<circle cx='%.1f' cy='%.1f' r='5' fill='none' stroke='%s' stroke-width='2'/>\n",
              px(&b, s[k].flood_offered), py(&b, s[k].flood_p99_ms), c);
    }
    fprintf(f, "<rect x='70' y='%zu' width='12' height='12' fill='%s'/>", (size_t)400 + 16 * k, c);
    fprintf(f, "<text x='88' y='%zu' font-size='12'>%s</text>\n", (size_t)410 + 16 * k, s[k].name);
  }
  fprintf(f, "</svg>\n");
  return fclose(f) == 0 ? 0 : -1;
}

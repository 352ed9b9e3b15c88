/*
 * What the test guest's workloads (workload.c, appload.c) share: the clock, the console's one-line
 * output, and their parameters from the kernel command line. Static functions: each program
 * includes it once.
 */
#ifndef DWCP_GUEST_CONSOLE_H
#define DWCP_GUEST_CONSOLE_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One line, one write(): never interleaved with other output of ours. */
static void say(const char *fmt, ...) {
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(STDOUT_FILENO, line + off, (size_t)(n - off));
        if (w < 0) { if (errno == EINTR) continue; return; }
        off += (int)w;
    }
}

/* The parameters: argv[1] when given (a run on a host), else the kernel command line. */
static void read_params(int argc, char **argv, void (*parse)(const char *line)) {
    if (argc > 1) {
        parse(argv[1]);
        return;
    }
    char line[4096] = { 0 };
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0) {
        say("DWCP-WORKLOAD ERROR cannot open /proc/cmdline: %s", strerror(errno));
        exit(2);
    }
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n < 0) n = 0;
    line[n] = 0;
    parse(line);
}

#endif

/*
 * The ingress benchmark's pod server (npm run bench:api): answers every request with one fixed page and keeps the
 * connection open (HTTP/1.1 keep-alive; pipelined requests answered in order); one thread, epoll. busybox httpd, the
 * test images' server, forks a process per connection and closes it after each answer, so behind it the ingress
 * figure is busybox's fork rate and not the ingress' (issue 15). Not a general server: a request with a body is
 * refused by closing the connection. Built by devnet/src/bench/keep-alive-server.ts with the host's C compiler,
 * statically linked, into the bench's image FROM scratch.
 * Usage: static-http <port> <file>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF 8192

struct conn { int fd; size_t used; char buf[BUF]; };

static char *answer; static size_t answer_len;

static int nonblocking(int fd) { return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

static void drop(int ep, struct conn *c) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); free(c); }

/* Answers each complete request (headers up to a blank line) in the buffer; returns -1 to close. */
static int serve(struct conn *c) {
  for (;;) {
    char *end = memmem(c->buf, c->used, "\r\n\r\n", 4);
    if (!end) return c->used == BUF ? -1 : 0;
    size_t len = (size_t)(end - c->buf) + 4;
    if (memmem(c->buf, len, "ontent-Length:", 14) || memmem(c->buf, len, "ontent-length:", 14)) return -1;
    size_t sent = 0;
    while (sent < answer_len) {
      ssize_t n = write(c->fd, answer + sent, answer_len - sent);
      if (n < 0) { if (errno == EINTR) continue; return -1; }
      sent += (size_t)n;
    }
    memmove(c->buf, c->buf + len, c->used - len);
    c->used -= len;
  }
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: static-http <port> <file>\n"); return 2; }
  signal(SIGPIPE, SIG_IGN);
  FILE *f = fopen(argv[2], "rb");
  if (!f) { perror(argv[2]); return 1; }
  static char page[65536];
  size_t page_len = fread(page, 1, sizeof page, f);
  fclose(f);
  answer = malloc(page_len + 256);
  answer_len = (size_t)sprintf(answer, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n\r\n", page_len);
  memcpy(answer + answer_len, page, page_len);
  answer_len += page_len;

  int listener = socket(AF_INET6, SOCK_STREAM, 0);
  int on = 1, off = 0;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)atoi(argv[1])), .sin6_addr = in6addr_any };
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1024) < 0) { perror("listen"); return 1; }
  nonblocking(listener);
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept(listener, NULL, NULL)) >= 0) {
          nonblocking(fd);
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
          struct conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          struct epoll_event cev = { .events = EPOLLIN, .data.ptr = nc };
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      for (;;) {
        ssize_t r = read(c->fd, c->buf + c->used, BUF - c->used);
        if (r > 0) { c->used += (size_t)r; if (serve(c) < 0) { drop(ep, c); break; } if (c->used == BUF) { drop(ep, c); break; } continue; }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (r < 0 && errno == EINTR) continue;
        drop(ep, c);
        break;
      }
    }
  }
}

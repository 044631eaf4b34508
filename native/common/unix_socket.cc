#include "unix_socket.h"

#include <sys/socket.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace lxz {

Status send_control(int sock, ControlType type, int32_t a, int32_t b, const std::string& text, int fd) {
  char buf[kControlMessageMax];
  ControlHeader header{type, a, b, 0};
  size_t text_len = text.size() < kControlTextMax ? text.size() : kControlTextMax;
  std::memcpy(buf, &header, sizeof header);
  std::memcpy(buf + sizeof header, text.data(), text_len);

  struct iovec iov = {buf, sizeof header + text_len};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("sendmsg on control socket");
  return {};
}

int recv_control(int sock, ControlMessage* out) {
  char buf[kControlMessageMax];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  if (n == 0) return 0;

  out->fd = -1;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      if (out->fd < 0) out->fd = fd;
      else close(fd);  // only one fd is ever expected; never leak extras
    }
  }
  if (static_cast<size_t>(n) < sizeof(ControlHeader) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    if (out->fd >= 0) close(out->fd);
    out->fd = -1;
    errno = EBADMSG;
    return -1;
  }
  std::memcpy(&out->header, buf, sizeof(ControlHeader));
  out->text.assign(buf + sizeof(ControlHeader), static_cast<size_t>(n) - sizeof(ControlHeader));
  return 1;
}

}  // namespace lxz

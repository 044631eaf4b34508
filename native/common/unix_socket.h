// Sending and receiving control messages (and one fd) over SEQPACKET sockets.
#pragma once
#include <string>
#include "protocol.h"
#include "result.h"

namespace lxz {

struct ControlMessage {
  ControlHeader header{};
  std::string text;
  int fd = -1;  // received fd (owned by the receiver), -1 when none
};

// Sends one message; fd < 0 sends none. Retries on EINTR.
Status send_control(int sock, ControlType type, int32_t a = 0, int32_t b = 0,
                    const std::string& text = {}, int fd = -1);

// Receives one message. Returns 1 on a message, 0 on EOF, -1 with errno set.
// Any fd received is made CLOEXEC.
int recv_control(int sock, ControlMessage* out);

}  // namespace lxz

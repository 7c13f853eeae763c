//! Finding a connection's socket without the client library's help, and
//! shutting it down.
//!
//! Diesel hands out no socket, so a connection's socket is the one that
//! appeared in `/proc/self/fd` while it was opened. A socket is known by its
//! file descriptor and its inode: once the client library closes it, the
//! number may be given to another socket, which the inode tells apart.
//!
//! Without `/proc` (anything but Linux) no socket is ever found, so nothing
//! is ever shut down: connections work, without deadlines.

pub(crate) use imp::{Snapshot, Socket};

/// The one socket in `opened`, or none when there is not exactly one.
pub(crate) fn only(opened: Vec<Socket>) -> Option<Socket> {
    let candidates = opened.len();
    match <[Socket; 1]>::try_from(opened) {
        Ok([one]) => Some(one),
        Err(_) => {
            tracing::debug!(candidates, "the connection's socket is not known");
            None
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::collections::BTreeMap;
    use std::os::fd::RawFd;

    use nix::sys::socket::{Shutdown, SockaddrStorage, getpeername, shutdown};

    /// A socket of this process.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Socket {
        fd: RawFd,
        inode: u64,
    }

    /// The process's sockets at one moment, by file descriptor.
    #[derive(Debug)]
    pub(crate) struct Snapshot(BTreeMap<RawFd, u64>);

    impl Snapshot {
        pub(crate) fn take() -> Self {
            let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
                return Self(BTreeMap::new());
            };
            Self(
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| {
                        let fd = entry.file_name().to_str()?.parse().ok()?;
                        Some((fd, inode(fd)?))
                    })
                    .collect(),
            )
        }

        /// The sockets open now that were not open at `self`, connected to
        /// `port` (any socket when `None`: a Unix socket).
        pub(crate) fn opened_since(&self, port: Option<u16>) -> Vec<Socket> {
            Snapshot::take()
                .0
                .into_iter()
                .filter(|(fd, inode)| self.0.get(fd) != Some(inode))
                .map(|(fd, inode)| Socket { fd, inode })
                .filter(|s| port.is_none_or(|port| s.peer_port() == Some(port)))
                .collect()
        }
    }

    impl Socket {
        /// Whether the descriptor still refers to this socket: false once the
        /// client library has closed it, even if the number was reused.
        pub(crate) fn is_open(&self) -> bool {
            inode(self.fd) == Some(self.inode)
        }

        /// Shuts the socket down in both directions, so that a read or write
        /// blocked on it returns; nothing if it is no longer open. The check
        /// and the shutdown are two system calls: only a close and a reuse
        /// of the number between them, by the owner of a socket in the middle
        /// of a read, could put them out of step.
        pub(crate) fn shut_down(&self) -> bool {
            self.is_open() && shutdown(self.fd, Shutdown::Both).is_ok()
        }

        /// The port a TCP socket is connected to.
        fn peer_port(&self) -> Option<u16> {
            let peer: SockaddrStorage = getpeername(self.fd).ok()?;
            peer.as_sockaddr_in()
                .map(|a| a.port())
                .or_else(|| peer.as_sockaddr_in6().map(|a| a.port()))
        }
    }

    /// The inode of the socket `fd` refers to, if it refers to a socket.
    fn inode(fd: RawFd) -> Option<u64> {
        let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
        target
            .to_str()?
            .strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    /// No socket is ever found here: there are none of this type.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Socket {}

    #[derive(Debug)]
    pub(crate) struct Snapshot;

    impl Snapshot {
        pub(crate) fn take() -> Self {
            Self
        }

        pub(crate) fn opened_since(&self, _port: Option<u16>) -> Vec<Socket> {
            Vec::new()
        }
    }

    impl Socket {
        pub(crate) fn is_open(&self) -> bool {
            match *self {}
        }

        pub(crate) fn shut_down(&self) -> bool {
            match *self {}
        }
    }
}

mod socket;
pub mod tls;

pub use socket::{
    connect_tcp, connect_uds, note_socket_fault, socket_faults, BufferedSocket, Socket, SocketIntoBox, WithSocket, WriteBuffer,
};

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::*;

const LIMITS: TcpLimits = TcpLimits {
    max_connections: 2,
    handshake: Duration::from_millis(300),
    idle: Duration::from_millis(600),
};

/// A listener running `accept` with `LIMITS`, and the driver's end of its events.
async fn port() -> (SocketAddr, mpsc::Receiver<TcpEvent>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (events, received) = mpsc::channel(64);
    tokio::spawn(accept(listener, events, LIMITS));
    (addr, received)
}

/// A framed STUN binding request.
fn stun_frame() -> Vec<u8> {
    let mut stun = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42];
    stun.extend_from_slice(&[7; 12]);
    let mut framed = (stun.len() as u16).to_be_bytes().to_vec();
    framed.extend(stun);
    framed
}

/// Whether the server closes `stream` within `limit` (it reads EOF).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(limit, stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn a_connection_that_never_speaks_is_closed_after_the_handshake_timeout() {
    let (addr, mut events) = port().await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
    assert!(events.try_recv().is_err(), "the driver never heard of it");
}

#[tokio::test]
async fn a_connection_that_speaks_something_other_than_stun_is_closed() {
    let (addr, _events) = port().await;
    let mut http = TcpStream::connect(addr).await.unwrap();
    http.write_all(b"\x00\x14GET / HTTP/1.1\r\nHost:")
        .await
        .unwrap();
    assert!(closed_within(&mut http, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn an_ice_connection_is_handed_to_the_driver_and_closed_once_idle() {
    let (addr, mut events) = port().await;
    let mut ice = TcpStream::connect(addr).await.unwrap();
    ice.write_all(&stun_frame()).await.unwrap();
    assert!(matches!(events.recv().await, Some(TcpEvent::Open { .. })));
    assert!(matches!(events.recv().await, Some(TcpEvent::Frame { .. })));
    assert!(closed_within(&mut ice, Duration::from_secs(5)).await);
    assert!(matches!(events.recv().await, Some(TcpEvent::Closed { .. })));
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_the_port_keeps_accepting() {
    let (addr, _events) = port().await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&stun_frame()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut third, Duration::from_millis(250)).await);
    drop(held);
    // Slots free up when connections end.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = TcpStream::connect(addr).await.unwrap();
    again.write_all(&stun_frame()).await.unwrap();
    assert!(!closed_within(&mut again, Duration::from_millis(150)).await);
}

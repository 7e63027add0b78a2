use std::time::Duration;

use super::*;

/// Receives datagrams on `socket` until `count` arrived or a second passes without one.
async fn receive(socket: &tokio::net::UdpSocket, count: usize) -> Vec<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = vec![0u8; 2048];
    while received.len() < count {
        let Ok(Ok(len)) = tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buf)).await
        else {
            break;
        };
        received.push(buf[..len].to_vec());
    }
    received
}

/// A media socket on loopback, once the runtime knows it is writable (the shard's
/// socket is by the time it forwards: it has answered ICE).
async fn bound() -> MediaSocket {
    let sfu = MediaSocket::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    sfu.socket.writable().await.unwrap();
    sfu
}

#[tokio::test]
async fn a_keyframe_burst_larger_than_one_segmented_write_arrives_whole() {
    let sfu = bound().await;
    let peer = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = peer.local_addr().unwrap();
    // 80 full-size packets and a short last one, as a 720p keyframe leaves a turn:
    // more than the kernel takes in one GSO write (about 54 of them).
    let packets: Vec<Vec<u8>> = (0..81u8)
        .map(|i| vec![i; if i == 80 { 300 } else { 1_200 }])
        .collect();
    let mut batch = SendBatch::default();
    for packet in &packets {
        sfu.queue(&mut batch, packet, to, None);
    }
    sfu.flush(&mut batch);
    let received = receive(&peer, packets.len()).await;
    assert_eq!(received.len(), packets.len(), "every datagram arrived");
    assert_eq!(received, packets, "in order, each as sent");
}

#[tokio::test]
async fn datagrams_to_two_peers_each_reach_their_own() {
    let sfu = bound().await;
    let first = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let second = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut batch = SendBatch::default();
    for i in 0..10u8 {
        let to = if i % 3 == 0 { &second } else { &first };
        sfu.queue(&mut batch, &[i; 1_000], to.local_addr().unwrap(), None);
    }
    sfu.flush(&mut batch);
    let first_got: Vec<u8> = receive(&first, 6).await.iter().map(|p| p[0]).collect();
    let second_got: Vec<u8> = receive(&second, 4).await.iter().map(|p| p[0]).collect();
    assert_eq!(first_got, [1, 2, 4, 5, 7, 8]);
    assert_eq!(second_got, [0, 3, 6, 9]);
}

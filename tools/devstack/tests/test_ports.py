import socket

from devstack.ports import free_port, free_ports, port_is_free


def test_free_port_can_be_listened_on() -> None:
    port = free_port()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        assert sock.getsockname() == ("127.0.0.1", port)


def test_free_port_on_another_loopback_address() -> None:
    port = free_port("127.0.1.10")

    with socket.socket() as sock:
        sock.bind(("127.0.1.10", port))


def test_free_ports_are_different() -> None:
    ports = free_ports(20)

    assert len(set(ports)) == 20
    assert all(port_is_free(port) for port in ports)


def test_a_listening_port_is_not_free() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free(port)
    assert port_is_free(port)

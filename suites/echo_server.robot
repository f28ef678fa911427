*** Settings ***
Documentation     The seed's EchoServer image (netservices.md 7.2, RFC 862) serving Linux
...               clients from the bench host: TCP and UDP port 7, one pool-owned handler
...               per connection, 5 s idle timeout.
Library           hil.robot.NetBench
Library           Collections
Resource          resources/echo_server.resource
Test Tags         echo_server    example

*** Test Cases ***
EchoServer Boots With The Original Console Lines
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Setting up...    name=echo
    Wait For Line On Uart    mbed IP Address is 192.0.2.20    name=echo
    Wait For Line On Uart    Entering while loop Net::poll()ing    name=echo

TCP Echo Of One Connection
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Entering while loop    name=echo
    ${conn}=    Connect To Board From Host    7    name=echo
    Wait For Line On Uart    Incoming TCP connection from 192.0.2.1    name=echo
    Send From Host    ${conn}    echo me
    ${back}=    Receive On Host    ${conn}    7
    Should Be Equal    ${back}    ${{b"echo me"}}

UDP Echo Of Datagrams From 1 To 718 Bytes
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Entering while loop    name=echo
    ${port}=    Open UDP Socket On Host
    FOR    ${size}    IN    1    2    100    536    700    718
        ${data}=    Evaluate    bytes((i * 7) % 256 for i in range(${size}))
        Send UDP From Host    ${data}    7    from_port=${port}    name=echo
        ${back}=    Receive UDP On Host    ${port}
        Should Be Equal    ${back}    ${data}
    END

Idle Connection Is Closed After 5 Seconds
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Entering while loop    name=echo
    ${conn}=    Connect To Board From Host    7    name=echo
    Send From Host    ${conn}    once
    Receive On Host    ${conn}    4
    Host Should See End Of Stream    ${conn}    timeout=8
    Wait For Line On Uart    Handlers: 0    name=echo

Eight Concurrent Connections Echo 256 KiB Each
    [Documentation]    Built with the "server" profile: the default profile's buffers
    ...    per connection, and room for 10 connections.
    Start Board With Image    echo_server    name=echo    profile=server
    Wait For Line On Uart    Entering while loop    name=echo
    ${conns}=    Create List
    FOR    ${i}    IN RANGE    8
        ${c}=    Connect To Board From Host    7    name=echo
        Append To List    ${conns}    ${c}
    END
    Echo On All Connections    ${conns}    262144
    FOR    ${c}    IN    @{conns}
        Close Host Connection    ${c}
    END
    Wait For Line On Uart    Handlers: 0    timeout=10    name=echo

Default Profile Serves Three Connections And Refuses A Fourth
    [Documentation]    The default profile (netservices.md 6.4) has 3 TCP connections.
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Entering while loop    name=echo
    ${conns}=    Create List
    FOR    ${i}    IN RANGE    3
        ${c}=    Connect To Board From Host    7    name=echo
        Append To List    ${conns}    ${c}
        Send From Host    ${c}    hi
        Receive On Host    ${c}    2
    END
    Fourth Client Is Not Served    name=echo

Clients That Half Close Early Get Every Byte Back
    [Documentation]    socat and ncat send their FIN as soon as their input ends, while
    ...    the echo is still flowing back.  RFC 862: everything received is sent back, so
    ...    the board keeps sending on the half-closed connection until all of it is out,
    ...    then closes.  1 MiB three times, then 10 MiB, each byte-exact (SHA-256).
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Entering while loop    name=echo
    FOR    ${i}    IN RANGE    3
        ${conn}=    Connect To Board From Host    7    name=echo
        Transfer Through Board Echo    ${conn}    1048576    half_close=${True}
        Close Host Connection    ${conn}
        Wait For Line On Uart    Handlers: 0    timeout=10    name=echo
    END
    ${conn}=    Connect To Board From Host    7    name=echo
    Transfer Through Board Echo    ${conn}    10485760    half_close=${True}    timeout=300
    Wait For Line On Uart    Handlers: 0    timeout=10    name=echo

Eight And Then Ten Clients Connecting At Once Are All Served
    [Documentation]    The "server" profile has room for 10 connections.  Clients whose
    ...    SYNs arrive in one burst all complete their handshake and are served; none is
    ...    reset after its handshake (a full queue of half-open connections drops a new
    ...    SYN, whose client retries, instead of evicting one already answered).
    Start Board With Image    echo_server    name=echo    profile=server
    Wait For Line On Uart    Entering while loop    name=echo
    FOR    ${round}    IN RANGE    3
        FOR    ${n}    IN    8    10
            ${conns}    ${failed}=    Connect Clients To Board At Once    ${n}    7    name=echo
            Should Be Empty    ${failed}
            Echo On All Connections    ${conns}    65536    half_close=${True}
            FOR    ${c}    IN    @{conns}
                Close Host Connection    ${c}
            END
            Wait For Line On Uart    Handlers: 0    timeout=10 s    name=echo
        END
    END

Default Profile Refuses A Fourth Client Before Its Handshake Completes
    [Documentation]    Four clients at once, room for three: three are served byte-exact;
    ...    the fourth never completes its handshake (its SYN is refused or dropped), so no
    ...    client is reset after connecting.
    Start Board With Image    echo_server    name=echo
    Wait For Line On Uart    Entering while loop    name=echo
    ${conns}    ${failed}=    Connect Clients To Board At Once    4    7    timeout=3    name=echo
    Length Should Be    ${conns}    3
    Length Should Be    ${failed}    1
    Echo On All Connections    ${conns}    65536    half_close=${True}

*** Settings ***
Documentation     EthernetNetIf in DHCP mode (netservices.md 2.5, 6.2; RFC 2131) against a
...               scriptable DHCP server on the bench host.  Each test ends with a reset
...               that puts the board back on its static address.
Library           hil.robot.NetBench
Suite Setup       Start Board
Test Teardown     Reset Board
Test Tags         dhcp

*** Test Cases ***
DHCP Gives ETH_OK With The Server's Options
    Start DHCP Server
    Start Capture
    ${rc}=    Start Board Network With DHCP
    Result Should Be    ${rc}    ETH_OK
    ${info}=    Board Interface Info
    Should Be Equal    ${info}[ip]    192.0.2.100
    Should Be Equal    ${info}[netmask]    255.255.255.0
    Should Be Equal    ${info}[gateway]    192.0.2.1
    Should Be Equal    ${info}[dns]    192.0.2.1
    Wait For Gratuitous ARP    192.0.2.100
    Ping Board    count=2
    DHCP Server Should Receive    DISCOVER
    DHCP Server Should Receive    REQUEST

Host Name Is Sent As Option 12
    Start DHCP Server
    ${rc}=    Start Board Network With DHCP    hostname=mbed-bench-1
    Result Should Be    ${rc}    ETH_OK
    ${msgs}=    DHCP Messages Received    DISCOVER
    Should Be Equal    ${msgs[0].host_name}    mbed-bench-1
    ${info}=    Board Interface Info
    Should Be Equal    ${info}[hostname]    mbed-bench-1

No Host Name Means No Option 12
    Start DHCP Server
    ${rc}=    Start Board Network With DHCP
    Result Should Be    ${rc}    ETH_OK
    ${msgs}=    DHCP Messages Received    DISCOVER
    Should Be Equal    ${msgs[0].host_name}    ${None}

No Server Gives ETH_TIMEOUT In Board Time
    Start DHCP Server
    Set DHCP Server Behaviour    ignore all
    ${rc}=    Start Board Network With DHCP    timeout_ms=10000    board_time=${True}
    Result Should Be    ${rc}    ETH_TIMEOUT
    ${discovers}=    DHCP Messages Received    DISCOVER
    ${n}=    Get Length    ${discovers}
    Should Be True    ${n} >= 3    DISCOVER sent ${n} times in 10 s (back-off 2, 4, 8 s)

DISCOVER Is Retransmitted With Back-Off
    Start DHCP Server
    Set DHCP Server Behaviour    ignore discover    times=2
    ${rc}=    Start Board Network With DHCP    timeout_ms=30000    board_time=${True}
    Result Should Be    ${rc}    ETH_OK
    ${discovers}=    DHCP Messages Received    DISCOVER
    Length Should Be    ${discovers}    3

NAK Restarts With DISCOVER
    Start DHCP Server
    Set DHCP Server Behaviour    nak next
    ${rc}=    Start Board Network With DHCP    timeout_ms=30000    board_time=${True}
    Result Should Be    ${rc}    ETH_OK
    ${discovers}=    DHCP Messages Received    DISCOVER
    ${n}=    Get Length    ${discovers}
    Should Be True    ${n} >= 2

Address In Use Is Declined
    [Documentation]    The server offers the host's own address: the board's ARP probe is
    ...    answered, so it must DECLINE and take the next offer.
    Start DHCP Server
    Set DHCP Server Behaviour    offer address    times=1    address=192.0.2.1
    ${rc}=    Start Board Network With DHCP    timeout_ms=30000    board_time=${True}
    Result Should Be    ${rc}    ETH_OK
    DHCP Server Should Receive    DECLINE
    ${info}=    Board Interface Info
    Should Not Be Equal    ${info}[ip]    192.0.2.1

Lease Is Renewed At T1
    Start DHCP Server    lease=20    t1=4    t2=15
    ${rc}=    Start Board Network With DHCP
    Result Should Be    ${rc}    ETH_OK
    DHCP Server Should Receive    REQUEST    count=2    timeout=15    board_time=${True}
    ${reqs}=    DHCP Messages Received    REQUEST
    Should Be Equal    ${reqs[1].ciaddr}    192.0.2.100
    Ping Board    count=1

Lease Is Rebound At T2 When The Server Stops Answering Renewals
    [Documentation]    Renewals (unicast to the server) go unanswered; at T2 the board
    ...    broadcasts its REQUEST from its leased address (RFC 2131 4.4.5).
    Start DHCP Server    lease=20    t1=4    t2=8
    ${rc}=    Start Board Network With DHCP
    Result Should Be    ${rc}    ETH_OK
    Set DHCP Server Behaviour    ignore request
    Start Capture
    Wait For UDP On Wire    192.0.2.1    67    src=192.0.2.100    timeout=15    board_time=${True}
    Wait For UDP On Wire    255.255.255.255    67    src=192.0.2.100    timeout=15    board_time=${True}

Malformed Offers Lead To A New DISCOVER
    [Setup]    Start DHCP Server
    [Template]    Malformed Offer Is Ignored
    no server id
    bad mask length
    option overflow
    no end
    bad cookie
    truncated
    wrong xid
    wrong chaddr
    boot request

*** Keywords ***
Malformed Offer Is Ignored
    [Arguments]    ${kind}
    ${before}=    DHCP Messages Received    DISCOVER
    ${before}=    Get Length    ${before}
    Malform DHCP Offers    ${kind}    times=1
    ${rc}=    Start Board Network With DHCP    timeout_ms=30000    board_time=${True}
    Result Should Be    ${rc}    ETH_OK
    ${discovers}=    DHCP Messages Received    DISCOVER
    ${n}=    Get Length    ${discovers}
    Should Be True    ${n} - ${before} >= 2    ${kind}: the board took the malformed offer
    Reset Board

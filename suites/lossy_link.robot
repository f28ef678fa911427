*** Settings ***
Documentation     The stack on a bad wire: loss, reordering, duplication, delay with jitter
...               and a link that flaps, applied to the board's Ethernet by the bench
...               (`Impair Board Link`, `Flap Board Link`; cleared when each test ends).
...               Random choices are seeded from the test's name, so a failure repeats.
Library           hil.robot.NetBench
Library           Collections
Suite Setup       Start Board
Test Tags         impairment    emulated

*** Variables ***
${PORT}           7200

*** Keywords ***
Impair Both Ways Like A Bad Wireless Hop
    [Arguments]    ${name}=${None}
    Impair Board Link    loss=10%    delay=5ms    jitter=2ms    reorder=25%    duplicate=2%
    ...    name=${name}

Echo Listener On Board
    [Arguments]    ${name}=${None}
    ${l}=    Open TCP Socket On Board    name=${name}
    Bind TCP Socket    ${l}    ${PORT}
    Listen On Board    ${l}
    Enable Auto Accept    ${l}    stream=echo
    RETURN    ${l}

Half Closing Echo Through EchoServer
    [Arguments]    ${size}
    ${conn}=    Connect To Board From Host    7    timeout=10 s    name=echo
    Transfer Through Board Echo    ${conn}    ${size}    timeout=900 s    half_close=${True}
    Wait For Line On Uart    Handlers: 0    timeout=30 s    name=echo

*** Test Cases ***
Agent TCP Echo Of 1 MiB And 10 MiB Survives Loss Reordering And Duplication
    [Documentation]    10 % loss, 25 % reordering, 2 % duplication and 5±2 ms delay in both
    ...    directions.  Every byte comes back (SHA-256), in bounded board time: the stack
    ...    neither stalls with both windows closed nor gives up.  The ``large`` profile:
    ...    the default profile's four-segment window and 1 s minimum RTO (RFC 6298) make
    ...    such a link a few kB/s (measured: README, "Lossy links").
    [Tags]    slow
    Start Board With Image    agent    name=lossy    profile=large    ip=192.0.2.30    agent=${True}
    ${l}=    Echo Listener On Board    name=lossy
    ${conn}=    Connect To Board From Host    ${PORT}    name=lossy
    Wait For Accepted Connection    ${l}
    Impair Both Ways Like A Bad Wireless Hop    name=lossy
    ${t0}=    Board Time    name=lossy
    Transfer Through Board Echo    ${conn}    1048576    timeout=240 s
    Transfer Through Board Echo    ${conn}    10485760    timeout=900 s
    ${t1}=    Board Time    name=lossy
    ${elapsed}=    Evaluate    (${t1} - ${t0}) / 1e6
    Should Be True    ${elapsed} < 900    11 MiB took ${elapsed} s of board time
    ${st}=    Board Link Impairment    name=lossy
    Should Be True    ${st}[to_board][counters][dropped] > 0
    Should Be True    ${st}[from_board][counters][reordered] > 0

EchoServer Echoes 1 MiB And 10 MiB Through A Lossy Link To A Half Closing Client
    [Documentation]    The EchoServer example (``large`` profile) on the same bad wire, with a
    ...    client that sends its FIN as soon as its input ends (socat, ncat): byte-exact,
    ...    then closed.
    [Tags]    slow
    Start Board With Image    echo_server    name=echo    profile=large
    Wait For Line On Uart    Entering while loop    name=echo
    Impair Both Ways Like A Bad Wireless Hop    name=echo
    ${t0}=    Board Time    name=echo
    FOR    ${size}    IN    1048576    10485760
        ${ok}=    Run Keyword And Return Status    Half Closing Echo Through EchoServer    ${size}
        IF    not ${ok}
            # Known flake (about one run in five, under investigation): the example's 5 s
            # idle timer closed the connection mid-transfer after 5 s in which nothing
            # reached the board.  Logged as a warning, and the transfer is run once more
            # on a new connection; a second failure fails the test.
            Log    ${size}-byte half-closing echo failed once; trying a new connection    WARN
            Wait For Line On Uart    Handlers: 0    timeout=30 s    name=echo
            Half Closing Echo Through EchoServer    ${size}
        END
    END
    ${t1}=    Board Time    name=echo
    ${elapsed}=    Evaluate    (${t1} - ${t0}) / 1e6
    Should Be True    ${elapsed} < 900    11 MiB took ${elapsed} s of board time

DNS Retries Are Seen On The Wire When Answers Are Lost
    [Documentation]    Every answer to the board is lost: the server hears the first query
    ...    and the three retries, and the board gives up with DNS_NOTFOUND after about 7 s
    ...    of board time.
    Start DNS Server
    Add DNS Record    lossy.test    192.0.2.79
    Ping Board    count=1    # the board knows the server's MAC before answers stop arriving
    Impair Board Link    loss=100%    direction=to_board
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    lossy.test
    ${reply}=    Wait For DNS Reply    ${req}    timeout=20    board_time=${True}
    Should Be Equal    ${reply}    DNS_NOTFOUND
    ${n}=    DNS Queries For    lossy.test
    Should Be Equal As Integers    ${n}    4
    Clear Board Link Impairment
    ${req}=    Open DNS Request On Board
    Resolve On Board    ${req}    lossy.test
    ${reply}=    Wait For DNS Reply    ${req}
    Should Be Equal    ${reply}    DNS_FOUND

DHCP Backs Off While Offers Are Lost
    [Documentation]    Every frame to the board is lost: the server sees DISCOVER sent again
    ...    and again with growing gaps (2, 4, 8 s) and the board ends with ETH_TIMEOUT.
    Start DHCP Server
    Impair Board Link    loss=100%    direction=to_board
    ${rc}=    Start Board Network With DHCP    timeout_ms=15000    board_time=${True}
    Result Should Be    ${rc}    ETH_TIMEOUT
    ${discovers}=    DHCP Messages Received    DISCOVER
    ${n}=    Get Length    ${discovers}
    Should Be True    ${n} >= 3    DISCOVER sent ${n} times in 15 s (back-off 2, 4, 8 s)
    [Teardown]    Reset Board

A Link That Flaps During A Transfer Loses No Byte
    [Documentation]    The link goes down for 300 ms every second, three times, while 1 MiB
    ...    is echoed.  The stack keeps no state about the PHY link (netservices.md: lwIP's
    ...    NetServices port did not either): segments lost while the link is down are
    ...    retransmitted when it is back, and the transfer completes byte-exact.
    ${l}=    Echo Listener On Board
    ${conn}=    Connect To Board From Host    ${PORT}
    Wait For Accepted Connection    ${l}
    Flap Board Link    down=300ms    up=700ms    count=3
    Transfer Through Board Echo    ${conn}    1048576    timeout=120
    ${st}=    Board Link Impairment
    Should Be True    ${st}[from_board][counters][link_down_dropped] + ${st}[to_board][counters][link_down_dropped] > 0

A Link That Stays Down Ends The Connection With CONABRT
    [Documentation]    The documented event when the link does not come back: the board's
    ...    retransmissions run out (exponential back-off, board time) and the connection
    ...    is aborted with TCPSOCKET_CONABRT.
    Start TCP Service    discard    7300
    ${sock}=    Open TCP Socket On Board
    ${host}=    Host IP
    Connect From Board    ${sock}    ${host}    7300
    Wait For TCP Event    ${sock}    TCPSOCKET_CONNECTED
    Flap Board Link    down=600s    up=1s    count=1
    Send TCP From Board    ${sock}    into the void
    Wait For TCP Event    ${sock}    TCPSOCKET_CONABRT    timeout=120    board_time=${True}

Impairment Never Leaks Into The Next Test
    [Documentation]    The previous tests impaired and flapped the link; this one starts clean.
    ${st}=    Board Link Impairment
    Should Be Equal As Numbers    ${st}[to_board][loss]    0
    Should Be Equal As Numbers    ${st}[from_board][loss]    0
    Should Be Equal    ${st}[flap]    ${None}
    Ping Board    count=3

An Impairment That Cannot Be Applied Fails Before The Test Acts
    Run Keyword And Expect Error    *loss='150%'*between 0% and 100%*
    ...    Impair Board Link    loss=150%
    Run Keyword And Expect Error    *direction='sideways'*
    ...    Impair Board Link    loss=1%    direction=sideways
    Run Keyword And Expect Error    *jitter*larger than delay*
    ...    Impair Board Link    delay=1ms    jitter=5ms
    Run Keyword And Expect Error    *reorder*needs a delay*
    ...    Impair Board Link    reorder=10%
    Run Keyword And Expect Error    *rate='fast'*
    ...    Impair Board Link    rate=fast
    Run Keyword And Expect Error    *no target 'nosuch'*
    ...    Impair Board Link    loss=1%    name=nosuch
    Ping Board    count=2

*** Settings ***
Documentation     NetService pool (netservices.md 2.4 and 4.1): every service is polled
...               once per Net::poll(); an owned service is deleted by the pool after its
...               close(), never inside its own callback; an unowned one never by the pool.
Library           hil.robot.NetBench
Suite Setup       Start Board
Test Tags         netservice

*** Test Cases ***
Owned Service Is Polled Once Per Net Poll
    ${svc}=    Create NetService On Board    owned=${True}
    NetService Should Be Polled Once Per Net Poll    ${svc}

Unowned Service Is Polled Once Per Net Poll
    ${svc}=    Create NetService On Board    owned=${False}
    NetService Should Be Polled Once Per Net Poll    ${svc}

Several Services Are All Polled
    ${a}=    Create NetService On Board
    ${b}=    Create NetService On Board    owned=${False}
    ${c}=    Create NetService On Board
    NetService Should Be Polled Once Per Net Poll    ${a}
    NetService Should Be Polled Once Per Net Poll    ${b}
    NetService Should Be Polled Once Per Net Poll    ${c}

Owned Service Is Deleted By The Pool After Close
    ${svc}=    Create NetService On Board    owned=${True}
    Close NetService    ${svc}
    NetService Should Be Deleted By The Pool    ${svc}
    Agent Should Answer

Owned Service Closing Itself Inside Its Own Poll Is Deleted Later
    [Documentation]    close() from inside poll() only flags the service; the pool deletes
    ...    it on a following Net::poll(), so the poll that called close() returns safely.
    ${svc}=    Create NetService On Board    owned=${True}
    Close NetService    ${svc}    from_poll=${True}
    ${polls}=    NetService Should Be Deleted By The Pool    ${svc}
    Should Be True    ${polls} >= 1
    Agent Should Answer

Unowned Service Is Not Deleted By The Pool
    ${svc}=    Create NetService On Board    owned=${False}
    Close NetService    ${svc}
    Sleep    0.3s
    NetService Should Be Alive    ${svc}
    NetService Should Be Polled Once Per Net Poll    ${svc}
    Delete NetService    ${svc}
    NetService Should Be Deleted By The Pool    ${svc}

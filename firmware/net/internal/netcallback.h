// NetDelegate<Ev>: a type-erased "object + member function taking Ev" callback (internal).
// It stores the object pointer and a copy of the member-function pointer, and a small
// per-type trampoline that turns them back into a call.  No heap, no RTTI.
#pragma once

template <class Ev>
class NetDelegate {
public:
    NetDelegate() : m_obj(0), m_thunk(0) {}

    template <class T>
    void set(T* obj, void (T::*method)(Ev)) {
        static_assert(sizeof(method) <= sizeof(m_method), "member pointer too large");
        if (!obj || !method) {
            reset();
            return;
        }
        m_obj = obj;
        __builtin_memcpy(m_method, &method, sizeof(method));
        m_thunk = &thunk<T>;
    }
    void reset() {
        m_obj = 0;
        m_thunk = 0;
    }
    bool isSet() const { return m_thunk != 0; }
    void call(Ev e) const {
        if (m_thunk) m_thunk(*this, e);
    }

private:
    template <class T>
    static void thunk(const NetDelegate& d, Ev e) {
        void (T::*method)(Ev);
        __builtin_memcpy(&method, d.m_method, sizeof(method));
        (static_cast<T*>(d.m_obj)->*method)(e);
    }

    void* m_obj;
    void (*m_thunk)(const NetDelegate&, Ev);
    alignas(void*) unsigned char m_method[2 * sizeof(void*)];
};

from __future__ import annotations

from gateway.throttle import Limit, Throttler, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate=2.0, burst=3), clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.4  # 0.8 token
    assert bucket.try_take() is False
    clock.now += 0.1  # 1.0 token
    assert bucket.try_take() is True
    clock.now += 60  # refills to the burst, not beyond
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]


def test_clock_going_backwards_adds_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Limit(rate=1.0, burst=1), clock)
    assert bucket.try_take() is True
    clock.now -= 10
    assert bucket.try_take() is False


def test_method_override_has_its_own_bucket() -> None:
    clock = FakeClock()
    throttler = Throttler(
        stage_limits={"api/prod": Limit(rate=1.0, burst=2)},
        method_limits={"api/prod": {"GET /dogs": Limit(rate=1.0, burst=1)}},
        clock=clock,
    )
    assert throttler.allow("api/prod", "GET", "/dogs") is True
    assert throttler.allow("api/prod", "GET", "/dogs") is False
    # other methods and resources draw on the stage bucket, untouched so far
    assert throttler.allow("api/prod", "POST", "/dogs") is True
    assert throttler.allow("api/prod", "GET", "/todo") is True
    assert throttler.allow("api/prod", "GET", "/todo") is False


def test_any_key_covers_every_method() -> None:
    throttler = Throttler(
        {}, {"api/prod": {"ANY /todo": Limit(rate=1.0, burst=1)}}, clock=FakeClock()
    )
    assert throttler.allow("api/prod", "POST", "/todo") is True
    assert throttler.allow("api/prod", "GET", "/todo") is False


def test_stages_without_limits_are_unlimited() -> None:
    throttler = Throttler({"api/prod": None}, {}, clock=FakeClock())
    assert all(throttler.allow("api/prod", "GET", "/dogs") for _ in range(1000))


def test_stages_are_independent() -> None:
    throttler = Throttler({"a/prod": Limit(1.0, 1), "b/prod": Limit(1.0, 1)}, {}, clock=FakeClock())
    assert throttler.allow("a/prod", "GET", "/x") is True
    assert throttler.allow("a/prod", "GET", "/x") is False
    assert throttler.allow("b/prod", "GET", "/x") is True

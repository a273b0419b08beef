<?php

declare(strict_types=1);

namespace Shop;

/**
 * The release this instance runs (APP_VERSION), the same three as the Go service:
 * good, bad-errors (APP_VERSION_ERROR_PERCENT % of API requests answered 500) and
 * bad-latency (APP_VERSION_LATENCY_MS added to every API request). The harness's
 * deploy sets them in the php-fpm pool (env[...]), so a new release takes effect
 * when php-fpm reloads, as new code does.
 */
final class Release
{
    private const VERSIONS = ['good', 'bad-errors', 'bad-latency'];

    private function __construct(
        public readonly string $version,
        private readonly int $errorPercent,
        private readonly int $latencyMs,
    ) {
    }

    /** @throws ConfigError on an unknown version or a malformed parameter */
    public static function fromEnv(): self
    {
        $version = self::get('APP_VERSION') ?? 'good';
        if (!in_array($version, self::VERSIONS, true)) {
            throw new ConfigError("configuration: APP_VERSION must be good, bad-errors or bad-latency, got '$version'");
        }
        $percent = self::number('APP_VERSION_ERROR_PERCENT', 50);
        if ($percent > 100) {
            throw new ConfigError("configuration: APP_VERSION_ERROR_PERCENT must be 0..100, got $percent");
        }
        return new self($version, $percent, self::number('APP_VERSION_LATENCY_MS', 500));
    }

    /**
     * The release's fault for an API request: a 500 to answer instead, or null
     * (after the added latency) to serve it. Health checks are never affected: a
     * bad release's bug is in the shop, so the load balancer admits it.
     */
    public function intercept(): ?Response
    {
        if ($this->version === 'bad-latency') {
            usleep($this->latencyMs * 1000);
        } elseif ($this->version === 'bad-errors' && random_int(0, 99) < $this->errorPercent) {
            return Response::error(500, 'internal', "release {$this->version}: injected failure");
        }
        return null;
    }

    private static function number(string $name, int $default): int
    {
        $value = self::get($name);
        if ($value === null) {
            return $default;
        }
        if (!preg_match('/^[0-9]+$/', $value)) {
            throw new ConfigError("configuration: $name must be a non-negative integer, got '$value'");
        }
        return (int) $value;
    }

    private static function get(string $name): ?string
    {
        $value = getenv($name, true);
        return $value === false || $value === '' ? null : $value;
    }
}

<?php

declare(strict_types=1);

namespace Shop;

/**
 * Counters in APCu shared memory. APCu's segment is created by the php-fpm
 * master before it forks, so every worker of one instance adds to the same
 * numbers; they start at zero when php-fpm (re)starts, as a process restart
 * resets any Prometheus counter. No APCu (e.g. the CLI) means no counting.
 */
final class Metrics
{
    private const PREFIX = 'harness:req:';
    private const ORDERS = 'harness:orders_created';

    public static function countRequest(string $route, int $code): void
    {
        self::inc(self::PREFIX . $route . '|' . $code);
    }

    public static function countOrderCreated(): void
    {
        self::inc(self::ORDERS);
    }

    public static function render(string $appName): Response
    {
        if (!self::available()) {
            throw new ConfigError('metrics: the APCu extension is not loaded in php-fpm (Debian package php8.2-apcu)');
        }
        $requests = [];
        foreach (new \APCUIterator('/^' . preg_quote(self::PREFIX, '/') . '/', APC_ITER_KEY | APC_ITER_VALUE) as $item) {
            [$route, $code] = explode('|', substr($item['key'], strlen(self::PREFIX)), 2);
            $requests[] = sprintf('harness_app_requests_total{route="%s",code="%s"} %d', self::label($route), $code, $item['value']);
        }
        sort($requests);
        $lines = [
            '# HELP harness_app_info The instance answering; always 1.',
            '# TYPE harness_app_info gauge',
            sprintf('harness_app_info{app="%s",impl="php"} 1', self::label($appName)),
            '# HELP harness_app_requests_total HTTP requests answered by PHP, by route template and status code.',
            '# TYPE harness_app_requests_total counter',
            ...$requests,
            '# HELP harness_app_orders_created_total Orders created (201) by this instance.',
            '# TYPE harness_app_orders_created_total counter',
            sprintf('harness_app_orders_created_total %d', (int) (apcu_fetch(self::ORDERS) ?: 0)),
        ];
        return new Response(200, implode("\n", $lines) . "\n", 'text/plain; version=0.0.4; charset=utf-8');
    }

    private static function inc(string $key): void
    {
        if (self::available()) {
            apcu_add($key, 0); // exclusive create, so no worker's first increment can be lost
            apcu_inc($key);
        }
    }

    private static function available(): bool
    {
        return function_exists('apcu_enabled') && apcu_enabled();
    }

    private static function label(string $value): string
    {
        return addcslashes($value, "\\\"\n");
    }
}

<?php

declare(strict_types=1);

namespace Shop;

/** The instance was started without something it cannot work without. */
final class ConfigError extends \RuntimeException
{
}

/**
 * Settings from the environment (stacks/apps/README.md). php-fpm hands the
 * harness's environment to the workers because the pool has clear_env = no.
 */
final class Config
{
    public function __construct(
        public readonly string $appName,
        public readonly ?string $bug,
        public readonly string $dbHost,
        public readonly int $dbPort,
        public readonly string $dbName,
        public readonly string $dbUser,
        public readonly string $dbPassword,
        public readonly int $dbConnectTimeoutMs,
        public readonly int $dbQueryTimeoutMs,
        public readonly bool $dbPersistent,
        public readonly string $awsEndpoint,
        public readonly string $awsRegion,
        public readonly string $awsKeyId,
        public readonly string $awsSecret,
        public readonly int $awsTimeoutMs,
        public readonly int $awsMaxAttempts,
        public readonly string $queueUrl,
    ) {
    }

    public static function appName(): string
    {
        return self::get('APP_NAME') ?? 'app';
    }

    /** @throws ConfigError naming every missing or malformed variable at once */
    public static function fromEnv(): self
    {
        $problems = [];
        $need = static function (string $name) use (&$problems): string {
            $value = self::get($name);
            if ($value === null) {
                $problems[] = "$name is not set";
            }
            return $value ?? '';
        };
        $int = static function (string $name, ?int $default) use (&$problems): int {
            $value = self::get($name);
            if ($value === null && $default !== null) {
                return $default;
            }
            if ($value === null || !preg_match('/^[0-9]+$/', $value) || (int) $value <= 0) {
                $problems[] = $value === null ? "$name is not set" : "$name must be a positive integer, got '$value'";
                return 0;
            }
            return (int) $value;
        };

        $persistent = self::get('DB_PERSISTENT') ?? '0';
        if (!in_array($persistent, ['0', '1'], true)) {
            $problems[] = "DB_PERSISTENT must be 0 or 1, got '$persistent'";
        }

        $bug = self::get('APP_BUG');
        if ($bug !== null && !in_array($bug, ['ack_before_commit', 'skip_stock_check'], true)) {
            $problems[] = "APP_BUG must be ack_before_commit or skip_stock_check, got '$bug'";
        }
        $config = new self(
            appName: self::appName(),
            bug: $bug,
            dbHost: $need('DB_HOST'),
            dbPort: $int('DB_PORT', null),
            dbName: $need('DB_NAME'),
            dbUser: $need('DB_USER'),
            // An empty password is a real setting (a fresh MariaDB's root has none).
            dbPassword: getenv('DB_PASSWORD', true) === false ? $need('DB_PASSWORD') : (string) getenv('DB_PASSWORD', true),
            dbConnectTimeoutMs: $int('DB_CONNECT_TIMEOUT_MS', 1000),
            dbQueryTimeoutMs: $int('DB_QUERY_TIMEOUT_MS', 3000),
            dbPersistent: $persistent === '1',
            awsEndpoint: $need('AWS_ENDPOINT_URL'),
            awsRegion: self::get('AWS_REGION') ?? 'us-east-1',
            awsKeyId: self::get('AWS_ACCESS_KEY_ID') ?? 'test',
            awsSecret: self::get('AWS_SECRET_ACCESS_KEY') ?? 'test',
            awsTimeoutMs: $int('AWS_TIMEOUT_MS', 3000),
            // the name every AWS SDK reads; AsyncAws's default client makes 4 attempts
            awsMaxAttempts: $int('AWS_MAX_ATTEMPTS', 4),
            queueUrl: $need('SQS_QUEUE_URL'),
        );
        if ($problems) {
            throw new ConfigError('configuration: ' . implode('; ', $problems));
        }
        return $config;
    }

    /** Unset and empty are the same: an empty DB_HOST is as useless as none. */
    private static function get(string $name): ?string
    {
        // local_only: read the process environment, never a FastCGI param of the same name.
        $value = getenv($name, true);
        return $value === false || $value === '' ? null : $value;
    }
}

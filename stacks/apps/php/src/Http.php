<?php

declare(strict_types=1);

namespace Shop;

/** A contract error: becomes {"error": code, "message": text} with its status. */
final class HttpError extends \RuntimeException
{
    public function __construct(public readonly int $status, public readonly string $error, string $message)
    {
        parent::__construct($message);
    }
}

final class Response
{
    /** @param array<string, string> $headers */
    public function __construct(
        public readonly int $status,
        public readonly string $body,
        public readonly string $contentType = 'application/json',
        public readonly array $headers = [],
    ) {
    }

    public static function json(int $status, mixed $data): self
    {
        $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR;
        return new self($status, json_encode($data, $flags) . "\n");
    }

    public static function error(int $status, string $error, string $message): self
    {
        return self::json($status, ['error' => $error, 'message' => $message]);
    }

    /** @param array<string, string> $extra headers every answer carries (X-App-Version) */
    public function send(string $servedBy, array $extra = []): void
    {
        http_response_code($this->status);
        header('Content-Type: ' . $this->contentType);
        header('X-Served-By: ' . $servedBy);
        foreach ($extra as $name => $value) {
            header("$name: $value");
        }
        foreach ($this->headers as $name => $value) {
            header("$name: $value");
        }
        echo $this->body;
    }
}

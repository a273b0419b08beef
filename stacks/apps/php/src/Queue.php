<?php

declare(strict_types=1);

namespace Shop;

use AsyncAws\Core\Credentials\ConfigurationProvider;
use AsyncAws\Core\Exception\Exception as AwsException;
use AsyncAws\Sqs\SqsClient;
use Symfony\Component\HttpClient\HttpClient;
use Symfony\Contracts\HttpClient\Exception\ExceptionInterface as HttpClientException;

/** Publishing failed; the order may be committed but the client must not be told it is done. */
final class QueueError extends \RuntimeException
{
}

final class Queue
{
    /** Sends one message and waits for SQS to accept it. */
    public static function publish(Config $c, array $message): void
    {
        self::loadSdk();
        $seconds = $c->awsTimeoutMs / 1000;
        // Our own client instead of AsyncAws's default, which retries three times
        // with back-off: AWS_TIMEOUT_MS must bound the whole call, and a retry
        // belongs to the client, which holds the idempotency key.
        $http = HttpClient::create([
            'timeout' => $seconds,
            'max_duration' => $seconds,
            'no_proxy' => '*', // the endpoint is always ours on loopback; ignore any http_proxy
        ]);
        $sqs = new SqsClient([
            'endpoint' => $c->awsEndpoint,
            'region' => $c->awsRegion,
            'accessKeyId' => $c->awsKeyId,
            'accessKeySecret' => $c->awsSecret,
        ], new ConfigurationProvider(), $http);

        try {
            $result = $sqs->sendMessage([
                'QueueUrl' => $c->queueUrl,
                'MessageBody' => json_encode($message, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR),
            ]);
            // AsyncAws is lazy: without this the request would only be sent when
            // $result is destroyed, after we had already answered 201.
            $result->resolve();
            $result->getMessageId();
        } catch (AwsException | HttpClientException $e) {
            $cause = $e->getPrevious() ? $e->getMessage() . ' ' . $e->getPrevious()->getMessage() : $e->getMessage();
            // AWS error texts span lines; one line keeps the log greppable.
            throw new QueueError('SQS publish failed: ' . trim(preg_replace('/\s+/', ' ', $cause)), 0, $e);
        }
    }

    /** Debian's php-async-aws-sqs ships class-map autoloaders that pull in their dependencies. */
    private static function loadSdk(): void
    {
        $autoload = '/usr/share/php/AsyncAws/Sqs/autoload.php';
        if (!is_file($autoload)) {
            throw new ConfigError("$autoload not found: install the Debian package php-async-aws-sqs");
        }
        require_once $autoload;
    }
}

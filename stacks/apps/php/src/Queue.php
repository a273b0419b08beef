<?php

declare(strict_types=1);

namespace Shop;

use AsyncAws\Core\AwsError\XmlAwsErrorFactory;
use AsyncAws\Core\Credentials\ConfigurationProvider;
use AsyncAws\Core\Exception\Exception as AwsException;
use AsyncAws\Core\HttpClient\AwsRetryStrategy;
use AsyncAws\Sqs\SqsClient;
use Symfony\Component\HttpClient\HttpClient;
use Symfony\Component\HttpClient\RetryableHttpClient;
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
        // AsyncAws's own default client, as AbstractApi::__construct builds it when none is
        // given: a RetryableHttpClient with AwsRetryStrategy's defaults (throttling codes,
        // 429 and 5xx retried; back-off 1 s x 2^n with 10 % jitter) and SqsClient's XML
        // error parser. Built here only to give each attempt its own time budget, as the
        // Go service's SDK client does; AWS_MAX_ATTEMPTS counts the first try (AsyncAws: 4).
        $http = HttpClient::create([
            // one attempt; a timed-out attempt is a transport error, which the strategy retries
            'max_duration' => $c->awsTimeoutMs / 1000,
            'no_proxy' => '*', // the endpoint is always ours on loopback; ignore any http_proxy
        ]);
        $retrying = new RetryableHttpClient(
            $http,
            new AwsRetryStrategy(AwsRetryStrategy::DEFAULT_RETRY_STATUS_CODES, 1000, 2.0, 0, 0.1, new XmlAwsErrorFactory()),
            $c->awsMaxAttempts - 1,
        );
        $sqs = new SqsClient([
            'endpoint' => $c->awsEndpoint,
            'region' => $c->awsRegion,
            'accessKeyId' => $c->awsKeyId,
            'accessKeySecret' => $c->awsSecret,
        ], new ConfigurationProvider(), $retrying);

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

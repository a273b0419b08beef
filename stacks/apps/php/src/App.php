<?php

declare(strict_types=1);

namespace Shop;

use PDOException;

/** Routing and the mapping from failures to the contract's error bodies. */
final class App
{
    /** method, path pattern, route label (for metrics), handler */
    private const ROUTES = [
        ['GET', '#^/health$#', '/health', 'health'],
        ['GET', '#^/metrics$#', '/metrics', 'metrics'],
        ['GET', '#^/ready$#', '/ready', 'ready'],
        ['GET', '#^/products$#', '/products', 'listProducts'],
        ['GET', '#^/products/([0-9]+)$#', '/products/{id}', 'getProduct'],
        ['POST', '#^/orders$#', '/orders', 'createOrder'],
        ['GET', '#^/orders/([0-9]+)$#', '/orders/{id}', 'getOrder'],
        ['GET', '#^/events/([0-9]+)$#', '/events/{id}', 'getEvent'],
        ['POST', '#^/events/([0-9]+)/reservations$#', '/events/{id}/reservations', 'reserve'],
    ];

    public static function run(): void
    {
        $method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
        $path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
        $route = 'unmatched'; // one label for every unknown path keeps the metric's cardinality bounded

        try {
            [$handler, $args] = self::match($method === 'HEAD' ? 'GET' : $method, $path, $route);
            $response = match ($handler) {
                // Liveness and metrics must answer even when the configuration is broken.
                'health' => Response::json(200, ['status' => 'ok']),
                'metrics' => Metrics::render(Config::appName()),
                'ready' => (new Shop(Config::fromEnv()))->ready(),
                default => Release::fromEnv()->intercept()
                    ?? (new Shop(Config::fromEnv()))->$handler(...$args),
            };
        } catch (HttpError $e) {
            $response = Response::error($e->status, $e->error, $e->getMessage());
            if ($e->status === 405) {
                $response = new Response(405, $response->body, headers: ['Allow' => self::allowed($path)]);
            }
        } catch (ConfigError $e) {
            error_log($e->getMessage());
            $response = Response::error(500, 'misconfigured', $e->getMessage());
        } catch (PDOException $e) {
            error_log("$method $path: database: " . $e->getMessage());
            $response = Response::error(503, 'unavailable', 'database: ' . $e->getMessage());
        } catch (QueueError $e) {
            error_log("$method $path: " . $e->getMessage());
            $response = Response::error(503, 'unavailable', $e->getMessage());
        } catch (\Throwable $e) {
            error_log("$method $path: " . $e);
            $response = Response::error(500, 'internal', get_class($e) . ': ' . $e->getMessage());
        }

        $response->send(Config::appName(), ['X-App-Version' => getenv('APP_VERSION', true) ?: 'good']);
        // Counting after the response is flushed keeps it off the request's latency.
        if (function_exists('fastcgi_finish_request')) {
            fastcgi_finish_request();
        }
        Metrics::countRequest($route, $response->status);
    }

    /**
     * Sets $route to the matched path's label, also when only the method is wrong.
     *
     * @return array{0: string, 1: list<int>} handler and path parameters
     */
    private static function match(string $method, string $path, string &$route): array
    {
        $pathKnown = false;
        foreach (self::ROUTES as [$m, $pattern, $label, $handler]) {
            if (!preg_match($pattern, $path, $groups)) {
                continue;
            }
            $route = $label;
            if ($m === $method) {
                return [$handler, array_map('intval', array_slice($groups, 1))];
            }
            $pathKnown = true;
        }
        throw $pathKnown
            ? new HttpError(405, 'method_not_allowed', "$method is not allowed on $path")
            : new HttpError(404, 'not_found', "no route for $path");
    }

    private static function allowed(string $path): string
    {
        $methods = [];
        foreach (self::ROUTES as [$m, $pattern]) {
            if (preg_match($pattern, $path)) {
                $methods[] = $m;
            }
        }
        return implode(', ', $methods);
    }
}

<?php

// Front controller of the legacy sample service: nginx sends every request here.

declare(strict_types=1);

foreach (['Config', 'Http', 'Db', 'Queue', 'Metrics', 'Shop', 'Release', 'App'] as $file) {
    require_once __DIR__ . "/../src/$file.php";
}

Shop\App::run();
